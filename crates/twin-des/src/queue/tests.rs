use super::*;
use crate::Rng;

fn key(time: u64, seq: u64) -> Key {
    Key {
        time,
        seq,
        slot: seq as u32,
        gen: 0,
    }
}

/// Pushes a random mix of keys (many equal times), interleaved with pops,
/// and checks that `Q` returns them in sorted order.
fn pops_in_order<Q: Queue>() {
    let mut rng = Rng::seed_from_u64(1);
    let mut q = Q::with_capacity(16);
    let mut seq = 0;
    let mut last = None;
    let mut popped = 0;
    let mut front = 0;
    for round in 0..20_000 {
        if rng.below(3) != 0 || q.is_empty() {
            // Never earlier than the last popped time, as the scheduler does.
            let time = front + rng.below(if round % 2 == 0 { 4 } else { 1_000 });
            q.push(key(time, seq));
            seq += 1;
        } else {
            let peeked = *q.peek().unwrap();
            let k = q.pop().unwrap();
            assert_eq!(k, peeked);
            if let Some(prev) = last {
                assert!(prev < k, "{prev:?} then {k:?}");
            }
            front = k.time;
            last = Some(k);
            popped += 1;
        }
    }
    while let Some(k) = q.pop() {
        assert!(last.is_none_or(|p| p < k));
        last = Some(k);
        popped += 1;
    }
    assert_eq!(popped, seq);
    assert!(q.is_empty() && q.peek().is_none());
}

fn retain_keeps_heap_order<Q: Queue>() {
    let mut rng = Rng::seed_from_u64(2);
    let mut q = Q::with_capacity(0);
    for seq in 0..5_000 {
        q.push(key(rng.below(100), seq));
    }
    q.retain(|k| k.seq % 3 != 0);
    assert_eq!(q.len(), 5_000 - 1_667);
    let mut prev: Option<Key> = None;
    while let Some(k) = q.pop() {
        assert!(k.seq % 3 != 0);
        assert!(prev.is_none_or(|p| p < k));
        prev = Some(k);
    }
    q.push(key(1, 1));
    q.clear();
    assert!(q.is_empty());
}

#[test]
fn binary_heap_pops_in_order() {
    pops_in_order::<BinaryHeapQueue>();
}

#[test]
fn quaternary_heap_pops_in_order() {
    pops_in_order::<QuaternaryHeap>();
}

#[test]
fn fifo_front_pops_in_order() {
    pops_in_order::<FifoFront<BinaryHeapQueue>>();
    pops_in_order::<FifoFront<QuaternaryHeap>>();
}

#[test]
fn retain_binary_heap() {
    retain_keeps_heap_order::<BinaryHeapQueue>();
}

#[test]
fn retain_quaternary_heap() {
    retain_keeps_heap_order::<QuaternaryHeap>();
}

#[test]
fn retain_fifo_front() {
    retain_keeps_heap_order::<FifoFront<QuaternaryHeap>>();
}

#[test]
fn fifo_front_takes_zero_delay_keys_in_o1() {
    let mut q = FifoFront::<BinaryHeapQueue>::default();
    q.push(key(5, 0));
    q.push(key(5, 1));
    assert_eq!(q.pop(), Some(key(5, 0)));
    // Same time as the last pop: goes to the FIFO, behind the heap's (5, 1).
    q.push(key(5, 2));
    q.push(key(5, 3));
    assert_eq!(q.fifo.len(), 2);
    assert_eq!(q.len(), 3);
    let order: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|k| k.seq).collect();
    assert_eq!(order, [1, 2, 3]);
}

#[test]
fn key_order_ignores_slot_and_generation() {
    let a = Key {
        time: 1,
        seq: 2,
        slot: 7,
        gen: 3,
    };
    assert_eq!(a, key(1, 2));
    assert!(key(1, 9) < key(2, 0));
    assert!(key(2, 0) < key(2, 1));
    assert!(key(u64::MAX, 0) > key(0, u64::MAX));
    assert_eq!(a.time(), SimTime::from_nanos(1));
    assert_eq!(a.seq(), 2);
}

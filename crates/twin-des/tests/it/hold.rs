//! The hold workload keeps its population and is reproducible.

use twin_des::{hold::Hold, BinaryHeapQueue, FifoFront, QuaternaryHeap};

#[test]
fn hold_keeps_population_constant() {
    let mut h: Hold = Hold::new(1_000, 100.0, 1);
    h.run(50_000);
    let st = h.scheduler().stats();
    assert_eq!(st.pending, 1_000);
    assert_eq!(st.executed, 50_000);
    assert_eq!(st.scheduled, 51_000);
}

#[test]
fn hold_checksum_is_reproducible_and_queue_independent() {
    let a = Hold::<BinaryHeapQueue>::with_fanout(500, 100.0, 3, 4).run(40_000);
    let b = Hold::<QuaternaryHeap>::with_fanout(500, 100.0, 3, 4).run(40_000);
    let c = Hold::<FifoFront<QuaternaryHeap>>::with_fanout(500, 100.0, 3, 4).run(40_000);
    assert_eq!(a, b);
    assert_eq!(a, c);
    let d = Hold::<BinaryHeapQueue>::with_fanout(500, 100.0, 3, 5).run(40_000);
    assert_ne!(a, d);
}

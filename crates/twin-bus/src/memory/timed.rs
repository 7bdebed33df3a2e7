//! Timed policies of a topic, run by the domain monitor: liveliness
//! leases, offered and requested deadlines.

use std::time::{Duration, Instant};

use super::{
    endpoint::{state_sample, Effects},
    topic::{State, TopicCore},
    Timed,
};
use crate::{
    status::{StatusEvent, StatusMask},
    InstanceHandle, InstanceState, Liveliness, TopicType,
};

impl<T: TopicType> Timed for TopicCore<T> {
    // Index loops: entries are mutated through `re` inside the loop bodies.
    #[allow(clippy::needless_range_loop)]
    fn check(&self, now: Instant) -> Option<Instant> {
        let mut fx = Effects::new();
        let mut next: Option<Instant> = None;
        let mut due = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        let mut st = self.state.lock();
        let State {
            writers,
            readers,
            instances,
            ..
        } = &mut *st;
        // Liveliness of writers. A writer that loses it releases what it
        // owns, and instances left with no live writer are reported as
        // NotAliveNoWriters, as for an unregister.
        let mut lost: Vec<u32> = Vec::new();
        for (slot, we) in writers.iter_mut().enumerate() {
            let Some(we) = we.as_mut() else { continue };
            let lease = we.qos.liveliness.lease();
            if lease == Duration::MAX {
                continue;
            }
            let last = match we.qos.liveliness {
                Liveliness::Automatic { .. } => match we.part.killed_at() {
                    Some(t) => t,
                    None => continue,
                },
                Liveliness::ManualByTopic { .. } => we.last_assert,
            };
            let expiry = last
                .checked_add(lease)
                .unwrap_or(now + Duration::from_secs(3600));
            if now < expiry {
                due(expiry);
                continue;
            }
            if !we.alive {
                continue;
            }
            we.status.liveliness_lost.bump();
            we.changed = StatusMask(we.changed.0 | StatusMask::LIVELINESS.0);
            fx.notifiers.extend(we.notifiers.iter().cloned());
            TopicCore::set_alive(we, readers, false, &mut fx);
            let wid = we.id;
            for &r in &we.matched {
                let Some(re) = readers[r as usize].as_mut() else {
                    continue;
                };
                for i in 0..re.inst.len() as u32 {
                    re.release(i, wid, &mut fx);
                }
            }
            lost.push(slot as u32);
        }
        for w in lost {
            let alive: Vec<bool> = writers
                .iter()
                .map(|x| x.as_ref().is_some_and(|x| x.alive))
                .collect();
            let we = writers[w as usize].as_ref().expect("lost writer exists");
            for (i, inst) in instances.iter().enumerate() {
                if inst.disposed || !inst.registered.contains(&w) {
                    continue;
                }
                for &r in &we.matched {
                    let Some(re) = readers[r as usize].as_mut() else {
                        continue;
                    };
                    let others = inst
                        .registered
                        .iter()
                        .any(|&x| x != w && alive[x as usize] && re.matched.contains(&x));
                    if !others {
                        let s = state_sample(
                            &inst.key,
                            i as u32,
                            we.id,
                            we.part.id,
                            we.seq,
                            InstanceState::NotAliveNoWriters,
                        );
                        re.push(i as u32, s, None, &mut fx);
                    }
                }
            }
        }
        // Offered deadlines.
        for we in writers.iter_mut().flatten() {
            let Some(period) = we.qos.deadline else {
                continue;
            };
            for (&i, last) in we.last_write.iter_mut() {
                let expiry = *last + period;
                if now >= expiry && !instances[i as usize].disposed {
                    we.status.deadline_missed.bump();
                    we.changed = StatusMask(we.changed.0 | StatusMask::DEADLINE_MISSED.0);
                    fx.notifiers.extend(we.notifiers.iter().cloned());
                    *last = now;
                    due(now + period);
                } else {
                    due(expiry);
                }
            }
        }
        // Requested deadlines; a miss releases the instance's owner.
        for re in readers.iter_mut().flatten() {
            let Some(period) = re.qos.deadline else {
                continue;
            };
            for i in 0..re.inst.len() {
                let Some(last) = re.inst[i].last_arrival else {
                    continue;
                };
                if instances[i].disposed {
                    continue;
                }
                let expiry = last + period;
                if now < expiry {
                    due(expiry);
                    continue;
                }
                re.inst[i].last_arrival = Some(now);
                due(now + period);
                re.status.deadline_missed.bump();
                re.status.last_deadline_instance = Some(InstanceHandle(i as u32));
                re.event(
                    StatusEvent::DeadlineMissed {
                        instance: InstanceHandle(i as u32),
                    },
                    &mut fx,
                );
                if let Some((owner, _)) = re.inst[i].owner {
                    re.release(i as u32, owner, &mut fx);
                }
            }
        }
        drop(st);
        fx.run();
        next
    }
}

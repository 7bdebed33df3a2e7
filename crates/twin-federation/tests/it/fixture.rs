use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use twin_bus::{ReaderQos, TopicType, WriterQos};
use twin_core::{Epoch, SimDuration, SimTime};
use twin_federation::*;

pub(crate) fn ms(n: u64) -> SimDuration {
    SimDuration::from_millis(n)
}

pub(crate) fn at(n: u64) -> SimTime {
    SimTime::ZERO + ms(n)
}

pub(crate) fn config(end_ms: u64) -> FederationConfig {
    FederationConfig {
        controller: ControllerConfig {
            name: "test".into(),
            end: at(end_ms),
            pacing: 0.0,
            expected: vec![],
            on_member_lost: LostPolicy::Drop,
            start_frozen: false,
            status_every: Duration::from_millis(5),
            record_grants: true,
        },
        epoch: Epoch::UNIX,
        seed: 3,
        stall_warning: Duration::from_secs(30),
        progress_every: Duration::from_millis(50),
        liveliness_lease: Duration::from_millis(200),
    }
}

pub(crate) fn stepped(
    name: &str,
    dt_ms: u64,
    m: impl Member + 'static,
    threaded: bool,
) -> MemberSpec {
    MemberSpec {
        name: name.into(),
        mode: TimeMode::Stepped { dt: ms(dt_ms) },
        member: Box::new(m),
        threaded,
    }
}

/// A value published by a member at its time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Val {
    pub(crate) source: String,
    pub(crate) value: u64,
}

impl TopicType for Val {
    const TYPE_NAME: &'static str = "test::Val";
    type Key = String;
    fn key(&self) -> String {
        self.source.clone()
    }
}

pub(crate) type Log = Arc<Mutex<Vec<String>>>;

/// Calls a closure at every grant.
pub(crate) struct Steps<F: FnMut(&mut Ctx, SimTime) -> Next + Send>(pub(crate) F);

impl<F: FnMut(&mut Ctx, SimTime) -> Next + Send> Member for Steps<F> {
    fn init(&mut self, _: &mut Ctx) -> Result<(), MemberError> {
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        Ok((self.0)(ctx, to))
    }
}

/// Publishes a counter every step on `twin/test/val`.
pub(crate) struct Producer {
    pub(crate) w: Option<TimedWriter<Val>>,
    pub(crate) n: u64,
    pub(crate) busy: Duration,
}

impl Member for Producer {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.w = Some(ctx.writer("twin/test/val", WriterQos::default().reliable().keep_all())?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, _: SimTime) -> Result<Next, MemberError> {
        self.n += 1;
        std::thread::sleep(self.busy);
        let v = Val {
            source: ctx.name().to_owned(),
            value: self.n,
        };
        self.w.as_ref().unwrap().write(ctx, v)?;
        Ok(Next::Default)
    }
}

/// Records every visible sample, per step, in the visibility order.
pub(crate) struct Recorder {
    pub(crate) r: Option<TimedReader<Val>>,
    pub(crate) log: Log,
}

impl Member for Recorder {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        self.r = Some(ctx.reader("twin/test/val", ReaderQos::default().reliable().keep_all())?);
        Ok(())
    }
    fn advance(&mut self, ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        for s in self.r.as_mut().unwrap().take(ctx) {
            let v = s.value.unwrap();
            let t = s.info.sim_time.unwrap();
            self.log
                .lock()
                .unwrap()
                .push(format!("{to} <- {} {} @{t}", v.source, v.value));
        }
        Ok(Next::Default)
    }
    fn finish(&mut self, _: &mut Ctx) -> Result<(), MemberError> {
        for s in self.r.as_mut().unwrap().take_all() {
            if let Some(v) = s.value {
                self.log
                    .lock()
                    .unwrap()
                    .push(format!("end <- {} {}", v.source, v.value));
            }
        }
        Ok(())
    }
}

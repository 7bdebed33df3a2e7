//! A member whose `init` fails must not leave the federation waiting for it:
//! the run ends (or the member is dropped) and the failure is reported.

use std::time::Duration;

use twin_core::SimTime;
use twin_federation::*;

use crate::fixture::*;

struct FailsAtInit;

impl Member for FailsAtInit {
    fn init(&mut self, _: &mut Ctx) -> Result<(), MemberError> {
        Err(MemberError::Failed("no such gain file".into()))
    }
    fn advance(&mut self, _: &mut Ctx, _: SimTime) -> Result<Next, MemberError> {
        Ok(Next::Default)
    }
}

#[test]
fn a_member_failing_at_init_is_reported_and_the_run_ends() {
    for threaded in [false, true] {
        let members = vec![
            stepped(
                "producer",
                10,
                Producer {
                    w: None,
                    n: 0,
                    busy: Duration::ZERO,
                },
                threaded,
            ),
            stepped("broken", 10, FailsAtInit, threaded),
        ];
        let mut fed = Federation::new(twin_bus::Bus::in_memory(), config(200), members).unwrap();
        match fed.run(&mut |_| {}) {
            Ok(s) => assert!(
                s.failures
                    .iter()
                    .any(|f| format!("{f:?}").contains("no such gain file")),
                "threaded {threaded}: {:?}",
                s.failures
            ),
            Err(e) => assert!(
                e.to_string().contains("no such gain file") || e.to_string().contains("broken"),
                "threaded {threaded}: {e}"
            ),
        }
    }
}

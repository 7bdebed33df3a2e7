//! The federation protocol: the typed topics members and the controller
//! exchange, and their QoS. Any process that speaks these topics can be a
//! member (the in-memory bus today, DDS across processes).
//!
//! | topic | type | writer → readers |
//! |---|---|---|
//! | `twin/control/state` | [`ControlState`] | controller → all (transient-local) |
//! | `twin/control/command` | [`ControlCommand`] | anyone → controller |
//! | `twin/federation/report` | [`MemberReport`] | each member → controller |
//! | `twin/time/grant` | [`TimeGrant`] | controller → one member (partition `member/<name>`) |
//! | `twin/federation/status` | [`FederationStatus`] | controller → observers |
//! | `twin/federation/sync` | [`SyncRequest`] | controller → all (DDS: discovery barrier) |
//! | `twin/federation/synced` | [`SyncReport`] | each member → controller (DDS) |
//! | `twin/assistant/ask` | [`AssistantQuestion`] | anyone → the assistant member |
//! | `twin/assistant/answer` | [`AssistantAnswer`] | the assistant member → askers |

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use twin_bus::{ReaderQos, TopicType, WriterQos};
use twin_core::{SimDuration, SimTime};

/// Topic of [`ControlState`].
pub const STATE_TOPIC: &str = "twin/control/state";
/// Topic of [`ControlCommand`].
pub const COMMAND_TOPIC: &str = "twin/control/command";
/// Topic of [`MemberReport`].
pub const REPORT_TOPIC: &str = "twin/federation/report";
/// Topic of [`TimeGrant`].
pub const GRANT_TOPIC: &str = "twin/time/grant";
/// Topic of [`FederationStatus`].
pub const STATUS_TOPIC: &str = "twin/federation/status";

/// Topic of [`SyncRequest`].
pub const SYNC_TOPIC: &str = "twin/federation/sync";
/// Topic of [`SyncReport`].
pub const SYNCED_TOPIC: &str = "twin/federation/synced";

/// On DDS, sent by the controller once every expected member is ready:
/// each member checks that its readers and writers are matched with every
/// counterpart of the listed participants that discovery shows, then says
/// so with a [`SyncReport`]. Only then does time start, so no sample
/// written at the first step can miss a reader that discovery has not yet
/// connected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Federation name.
    pub federation: String,
    /// The participants (member names and the controller's) to match with.
    pub participants: Vec<String>,
    /// The members' watermarks for what they wrote while initialising
    /// (see [`Written::initial`]): a member also waits until its
    /// transient-local readers hold those samples, so that no member's
    /// first step overwrites history a late-matched reader has yet to get.
    pub written: Vec<Written>,
}

impl TopicType for SyncRequest {
    const TYPE_NAME: &'static str = "twin::federation::SyncRequest";
    type Key = ();
    fn key(&self) {}
}

/// A member's answer to a [`SyncRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Member name.
    pub member: String,
    /// What is not matched yet, one line per endpoint; empty when done.
    pub unmatched: Vec<String>,
}

impl TopicType for SyncReport {
    const TYPE_NAME: &'static str = "twin::federation::SyncReport";
    const KEY_FIELDS: &'static [&'static str] = &["member"];
    type Key = String;
    fn key(&self) -> String {
        self.member.clone()
    }
}

/// The control module's states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FedState {
    /// Members register and report ready; no time passes.
    Initialise,
    /// Time advances.
    Running,
    /// Time holds at the last granted time; members do nothing.
    Frozen,
    /// The federation is over; members finish and leave.
    Ended,
}

impl std::fmt::Display for FedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FedState::Initialise => "initialise",
            FedState::Running => "running",
            FedState::Frozen => "frozen",
            FedState::Ended => "ended",
        })
    }
}

/// The federation's state as broadcast by the controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlState {
    /// Federation name.
    pub federation: String,
    /// Current state.
    pub state: FedState,
    /// Global time: every timed member has completed this time.
    pub time: SimTime,
    /// Scheduled end time.
    pub end: SimTime,
    /// What every member had written when this state was sent (see
    /// [`Written`]): an untimed member that sees the end waits for these
    /// samples before its last look at the data.
    pub written: Vec<Written>,
}

impl TopicType for ControlState {
    const TYPE_NAME: &'static str = "twin::control::State";
    type Key = ();
    fn key(&self) {}
}

/// A request to the controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Leave initialise (when every expected member is ready) and run.
    Run,
    /// Hold time.
    Freeze,
    /// Continue after a freeze.
    Resume,
    /// End the federation now.
    End,
    /// Change the wall-clock pacing ratio (sim seconds per wall second; 0 = as fast as possible).
    SetPacing {
        /// The new ratio, ≥ 0.
        ratio: f64,
    },
}

/// A command and who sent it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlCommand {
    /// Sender, for the log.
    pub from: String,
    /// The command.
    pub command: Command,
}

impl TopicType for ControlCommand {
    const TYPE_NAME: &'static str = "twin::control::Command";
    type Key = ();
    fn key(&self) {}
}

/// How a member takes part in time management.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeMode {
    /// Advances in fixed steps of `dt` granted by the controller.
    Stepped {
        /// Step length.
        dt: SimDuration,
    },
    /// Requests the time of its next event; promises to publish nothing
    /// stamped earlier than its granted time plus `lookahead`.
    Event {
        /// Lookahead.
        lookahead: SimDuration,
    },
    /// No time management: reacts to data as it arrives.
    Untimed,
}

/// What a member tells the controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Report {
    /// The member exists and how it takes part in time.
    Join {
        /// Its time mode.
        mode: TimeMode,
    },
    /// Initialisation done; it can run.
    Ready,
    /// It finished the grant to `granted` and requests `next`
    /// (`SimTime::MAX` for "no event pending").
    Completed {
        /// The granted time it reached.
        granted: SimTime,
        /// The next time it needs.
        next: SimTime,
        /// The earliest stamp of timed data it published in this step.
        published_min: Option<SimTime>,
    },
    /// It leaves the federation.
    Leave,
}

/// A report with its sender.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberReport {
    /// Member name (the instance key).
    pub member: Arc<str>,
    /// The report.
    pub report: Report,
    /// With `Ready` and `Completed`: how many samples the member has
    /// written so far, per topic (its watermarks, `member` its own name).
    /// With `Ready` one entry per topic it has a timed writer on (written
    /// to or not, so that the discovery barrier waits until readers have
    /// discovered it), flagged `initial`; only transient-local writers
    /// promise samples (`held`): samples written before a volatile reader
    /// matched never reach it.
    pub written: Vec<Written>,
}

impl TopicType for MemberReport {
    const TYPE_NAME: &'static str = "twin::federation::Report";
    const KEY_FIELDS: &'static [&'static str] = &["member"];
    type Key = Arc<str>;
    fn key(&self) -> Arc<str> {
        Arc::clone(&self.member)
    }
}

/// Permission for one member to advance to `time`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeGrant {
    /// The member (instance key).
    pub member: Arc<str>,
    /// The time it may advance to.
    pub time: SimTime,
    /// The controller's grant round.
    pub round: u64,
    /// The other members' watermarks as of their last reports: the member
    /// steps only once its readers hold these samples (on DDS, where data
    /// and grants travel by different writers and may arrive out of order).
    pub after: Vec<Written>,
}

/// A sequence watermark: `member` has written `count` samples on `topic`
/// (the sequence number of its latest sample there, counted by its timed
/// writers). A reader that has received sample `count` of that member's
/// writer on a reliable topic holds every earlier one too, since reliable
/// delivery is in order per writer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// The writing member (its participant name).
    pub member: Arc<str>,
    /// The topic.
    pub topic: Arc<str>,
    /// Samples written on it so far (the latest sequence number).
    pub count: u64,
    /// Written during initialisation (before time started, perhaps before
    /// discovery matched the readers): promised only to transient-local
    /// keep-all readers, which receive what was written before they
    /// matched. A late-matched reader may get its historical samples after
    /// live ones, so it counts those numbered up to `count` instead of
    /// comparing sequence numbers: it waits for `held` of them, what the
    /// writer's history holds (per instance, at most its depth).
    pub initial: bool,
    /// With `initial`: samples numbered up to `count` a late-matched
    /// reader receives; otherwise 0.
    pub held: u64,
}

impl TopicType for TimeGrant {
    const TYPE_NAME: &'static str = "twin::time::Grant";
    const KEY_FIELDS: &'static [&'static str] = &["member"];
    type Key = Arc<str>;
    fn key(&self) -> Arc<str> {
        Arc::clone(&self.member)
    }
}

/// One member as the controller sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberStatus {
    /// Name.
    pub name: String,
    /// Time mode.
    pub mode: TimeMode,
    /// `joined`, `ready`, `waiting`, `busy`, `left` or `lost`.
    pub phase: String,
    /// Last completed time.
    pub completed: SimTime,
    /// Pending request (waiting) or grant (busy).
    pub requested: Option<SimTime>,
    /// Wall time since its last report [ms].
    pub since_report_ms: u64,
}

/// Periodic summary of the federation, for dashboards and hang diagnosis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FederationStatus {
    /// Federation name.
    pub federation: String,
    /// State.
    pub state: FedState,
    /// Global time.
    pub time: SimTime,
    /// Grant rounds issued.
    pub rounds: u64,
    /// Pacing ratio in force (0 = as fast as possible).
    pub pacing: f64,
    /// Measured lag behind the paced wall clock [ms] (0 when unpaced).
    pub lag_ms: f64,
    /// Achieved sim seconds per wall second since start.
    pub speed: f64,
    /// Members.
    pub members: Vec<MemberStatus>,
}

impl TopicType for FederationStatus {
    const TYPE_NAME: &'static str = "twin::federation::Status";
    type Key = ();
    fn key(&self) {}
}

/// Reliable, keep-all: nothing of the protocol may be lost.
pub fn protocol_writer() -> WriterQos {
    WriterQos::default()
        .reliable_blocking(Duration::from_secs(5))
        .keep_all()
}

/// How many of its latest reports a member's writer keeps for
/// retransmission (see [`report_writer`]).
pub const REPORT_DEPTH: u32 = 8;

/// Reports: reliable, keeping the last [`REPORT_DEPTH`] per member. A
/// member writes a report only after the controller has taken its
/// previous one (each completion answers a grant, which the controller
/// sends after reading the previous report), so at most the join/ready or
/// completed/leave pair is ever in flight and nothing the controller needs
/// is dropped. The bounded history (8 reports: a few kB even with many
/// watermarks, under Cyclone's initial 30 kB high-water mark) keeps the
/// writer from ever blocking: a
/// member stepping on Cyclone's receive thread writes its report there,
/// and a keep-all writer whose unacknowledged samples pass Cyclone's
/// high-water mark waits for acknowledgements that only that same thread
/// can process (measured: 4 of 8 two-member `dds_steps` runs under load
/// 15–20 stalled 5 s and the member failed). A reader that stops
/// acknowledging (a suspended recorder) no longer blocks the members; it
/// misses reports older than the last 8 instead.
pub fn report_writer() -> WriterQos {
    WriterQos::default()
        .reliable_blocking(Duration::from_secs(5))
        .keep_last(REPORT_DEPTH)
}

/// Reliable keep-all reader.
pub fn protocol_reader() -> ReaderQos {
    ReaderQos::default().reliable().keep_all()
}

/// Transient-local last-value writer (state, status).
pub fn state_writer() -> WriterQos {
    WriterQos::default().transient_local().keep_last(1)
}

/// Transient-local last-value reader.
pub fn state_reader() -> ReaderQos {
    ReaderQos::default().reliable().transient_local().keep_all()
}

/// Grants: reliable and transient-local with the last grant per member, so
/// a grant written before discovery matched the member's reader (a new
/// process on a DDS bus) still reaches it. At most one grant per member is
/// outstanding, so keeping the last loses nothing.
pub fn grant_writer() -> WriterQos {
    WriterQos::default()
        .reliable_blocking(Duration::from_secs(5))
        .transient_local()
        .keep_last(1)
}

/// Reader of [`grant_writer`]'s grants.
pub fn grant_reader() -> ReaderQos {
    ReaderQos::default().reliable().transient_local().keep_all()
}

/// The discovery barrier's requests: reliable, transient-local, the last one.
pub fn sync_request_writer() -> WriterQos {
    WriterQos::default()
        .reliable_blocking(Duration::from_secs(5))
        .transient_local()
        .keep_last(1)
}

/// The QoS the federation's own writers offer on protocol topic `topic`
/// (tools that publish on them, such as `twin bus play`, use it so that
/// the same readers match); `None` for other topics.
pub fn writer_qos(topic: &str) -> Option<WriterQos> {
    Some(match topic {
        STATE_TOPIC | STATUS_TOPIC => state_writer(),
        COMMAND_TOPIC | SYNCED_TOPIC => protocol_writer(),
        REPORT_TOPIC => report_writer(),
        GRANT_TOPIC => grant_writer(),
        SYNC_TOPIC => sync_request_writer(),
        ASK_TOPIC | ANSWER_TOPIC => WriterQos::default().reliable(),
        _ => return None,
    })
}

/// The partition of one member's grants.
pub(crate) fn grant_partition(member: &str) -> String {
    format!("member/{member}")
}

/// Topic of [`AssistantQuestion`]: anyone → the assistant member.
pub const ASK_TOPIC: &str = "twin/assistant/ask";
/// Topic of [`AssistantAnswer`]: the assistant member → whoever asked.
pub const ANSWER_TOPIC: &str = "twin/assistant/answer";

/// A question to the federation's assistant. Keyed by `id`, which the asker
/// picks (unique per asker, e.g. a counter prefixed with its name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssistantQuestion {
    /// Question id (the instance key), echoed in the answer.
    pub id: Arc<str>,
    /// Who asks (a member, `dashboard`, `cli`).
    pub asked_by: String,
    /// The question in plain language.
    pub text: String,
}

impl TopicType for AssistantQuestion {
    const TYPE_NAME: &'static str = "twin::assistant::Question";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = Arc<str>;
    fn key(&self) -> Arc<str> {
        Arc::clone(&self.id)
    }
}

/// One piece of federation data an answer relied on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// Topic it came from.
    pub topic: String,
    /// Simulation time of the sample.
    pub sim_time: SimTime,
    /// A short rendering of the value used.
    pub excerpt: String,
}

/// The assistant's answer to an [`AssistantQuestion`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssistantAnswer {
    /// The question's id (the instance key).
    pub id: Arc<str>,
    /// The answer (final text, reasoning removed).
    pub text: String,
    /// Data the answer used.
    pub citations: Vec<Citation>,
    /// Model that answered.
    pub model: String,
    /// Federation time when the answer was made.
    pub sim_time: SimTime,
    /// Set when no answer could be made (model missing, timeout); `text` then explains.
    pub error: bool,
    /// Set on the last sample of an answer. An assistant may first publish the answer as it
    /// grows, under the same id with `done` false (text so far, no citations yet).
    pub done: bool,
}

impl TopicType for AssistantAnswer {
    const TYPE_NAME: &'static str = "twin::assistant::Answer";
    const KEY_FIELDS: &'static [&'static str] = &["id"];
    type Key = Arc<str>;
    fn key(&self) -> Arc<str> {
        Arc::clone(&self.id)
    }
}

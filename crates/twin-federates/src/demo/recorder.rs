//! `recorder`: writes samples of chosen topics to a JSON-lines file.
//!
//! A stepped member: at each grant it writes every sample that became
//! visible (stamped before the granted time), sorted by (stamp, topic,
//! writer, sequence), and flushes, so a crash or Ctrl-C loses at most one
//! step. Line format:
//! `{"t_ns":…,"t":"<seconds>","topic":"…","source":"<member>","seq":…,"state":"alive","data":{…}}`.

use std::{
    fs::{self, File},
    io::{BufWriter, Write},
    path::PathBuf,
};

use serde::Deserialize;
use serde_json::{json, Value};
use twin_bus::{Bus, ReaderQos, Sample, TopicType};
use twin_core::SimTime;
use twin_federation::{Ctx, Member, MemberError, Next, TimedReader};
use twin_scenario::ParamIssue;

use super::{PointPosition, Tick, POSITION_TOPIC, TICK_TOPIC};
use crate::params::{issues, parse_params};

/// Topics the recorder can decode.
pub const RECORDABLE: [&str; 2] = [POSITION_TOPIC, TICK_TOPIC];

/// Parameters of `recorder`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Output file (JSON lines); parent folders are created.
    pub path: PathBuf,
    /// Topics to record.
    pub topics: Vec<String>,
}

impl Params {
    pub(crate) fn check(t: &toml::Table) -> Result<(), Vec<ParamIssue>> {
        let p: Params = parse_params(t)?;
        let mut v = Vec::new();
        for topic in &p.topics {
            if !RECORDABLE.contains(&topic.as_str()) {
                v.push(ParamIssue::at(
                    "topics",
                    format!("cannot record `{topic}`: recordable topics are {RECORDABLE:?}"),
                ));
            }
        }
        if p.path.as_os_str().is_empty() {
            v.push(ParamIssue::at("path", "path is empty"));
        }
        issues(v)
    }
}

/// One recorded line before formatting.
struct Row {
    t: SimTime,
    topic: &'static str,
    participant: u32,
    seq: u64,
    state: &'static str,
    data: Value,
}

trait Source: Send {
    fn take(&mut self, before: Option<SimTime>, out: &mut Vec<Row>);
}

struct Typed<T: TopicType> {
    topic: &'static str,
    reader: TimedReader<T>,
}

fn row<T: TopicType>(topic: &'static str, s: Sample<T>, step: Option<SimTime>) -> Row {
    let state = match s.info.state {
        twin_bus::InstanceState::Alive => "alive",
        twin_bus::InstanceState::NotAliveDisposed => "disposed",
        twin_bus::InstanceState::NotAliveNoWriters => "no_writers",
    };
    Row {
        // Unstamped samples (disposals) are placed at the step that saw them.
        t: s.info.sim_time.or(step).unwrap_or(SimTime::MAX),
        topic,
        participant: s.info.participant.0,
        seq: s.info.sequence,
        state,
        data: s.value.map_or(Value::Null, |v| {
            serde_json::to_value(v).unwrap_or(Value::Null)
        }),
    }
}

impl<T: TopicType> Source for Typed<T> {
    fn take(&mut self, before: Option<SimTime>, out: &mut Vec<Row>) {
        let samples = match before {
            Some(t) => self.reader.take_before(t),
            None => self.reader.take_all(),
        };
        // A writer leaving (no live writers) is teardown, not data: its
        // timing depends on thread placement, so it is not recorded.
        let data = samples
            .into_iter()
            .filter(|s| s.info.state != twin_bus::InstanceState::NotAliveNoWriters);
        out.extend(data.map(|s| row(self.topic, s, before)));
    }
}

/// The `recorder` member.
pub struct Recorder {
    p: Params,
    sources: Vec<Box<dyn Source>>,
    out: Option<BufWriter<File>>,
    bus: Option<Bus>,
    lines: u64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.p.path)
            .field("lines", &self.lines)
            .finish()
    }
}

impl Recorder {
    /// A member with these parameters.
    pub fn new(p: Params) -> Self {
        Recorder {
            p,
            sources: Vec::new(),
            out: None,
            bus: None,
            lines: 0,
        }
    }

    fn write(&mut self, before: Option<SimTime>) -> Result<(), MemberError> {
        let mut rows = Vec::new();
        for s in &mut self.sources {
            s.take(before, &mut rows);
        }
        rows.sort_by(|a, b| {
            (a.t, a.topic, a.participant, a.seq).cmp(&(b.t, b.topic, b.participant, b.seq))
        });
        let bus = self.bus.as_ref().expect("set in init");
        let out = self.out.as_mut().expect("set in init");
        let io = |e: std::io::Error| MemberError::Failed(format!("writing the record: {e}"));
        for r in rows {
            let source = bus
                .participant_name(twin_bus::ParticipantId(r.participant))
                .unwrap_or_default();
            let line = json!({
                "t_ns": r.t.as_nanos(),
                "t": format!("{:.9}", r.t.as_secs_f64()),
                "topic": r.topic,
                "source": source,
                "seq": r.seq,
                "state": r.state,
                "data": r.data,
            });
            serde_json::to_writer(&mut *out, &line).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
            self.lines += 1;
        }
        out.flush().map_err(io)
    }
}

impl Member for Recorder {
    fn init(&mut self, ctx: &mut Ctx) -> Result<(), MemberError> {
        let path = &self.p.path;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| {
                MemberError::Failed(format!("cannot create `{}`: {e}", dir.display()))
            })?;
        }
        let f = File::create(path)
            .map_err(|e| MemberError::Failed(format!("cannot create `{}`: {e}", path.display())))?;
        self.out = Some(BufWriter::new(f));
        self.bus = Some(ctx.participant().bus().clone());
        let qos = ReaderQos::default().reliable().keep_all().transient_local();
        for t in &self.p.topics {
            let src: Box<dyn Source> = match t.as_str() {
                POSITION_TOPIC => Box::new(Typed::<PointPosition> {
                    topic: POSITION_TOPIC,
                    reader: ctx.reader(POSITION_TOPIC, qos.clone())?,
                }),
                TICK_TOPIC => Box::new(Typed::<Tick> {
                    topic: TICK_TOPIC,
                    reader: ctx.reader(TICK_TOPIC, qos.clone())?,
                }),
                other => return Err(MemberError::Failed(format!("cannot record `{other}`"))),
            };
            self.sources.push(src);
        }
        Ok(())
    }

    fn advance(&mut self, _ctx: &mut Ctx, to: SimTime) -> Result<Next, MemberError> {
        self.write(Some(to))?;
        Ok(Next::Default)
    }

    fn finish(&mut self, _ctx: &mut Ctx) -> Result<(), MemberError> {
        self.write(None)?;
        tracing::info!(path = %self.p.path.display(), lines = self.lines, "recording written");
        Ok(())
    }
}

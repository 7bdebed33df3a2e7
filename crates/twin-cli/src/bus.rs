//! `twin bus`: look at a DDS data space from the outside.
//!
//! * `twin bus idl [--out DIR]`: the IDL of every Twin bus type (the files
//!   in `idl/`), for other DDS programs;
//! * `twin bus ls`: what DDS discovery sees in the domain: participants and
//!   every topic with its type, writers, readers and their QoS (any DDS
//!   program's, not only Twin's); `--known` lists the topics Twin knows;
//! * `twin bus echo TOPIC`: decode and print live samples as JSON lines;
//! * `twin bus record FILE`: every sample of the known topics, with wall and
//!   simulation time stamps, as JSON lines (doubles as an audit log);
//! * `twin bus play FILE [--speed X]`: publish a recording again with its
//!   original timing divided by `X` (0 = as fast as possible), each topic
//!   with the QoS its Twin writers offer (transient-local where the topic is
//!   durable), so that the readers that match a live run (a dashboard's
//!   durable readers) match the replay too.
//!
//! Topics are known by name: the federation protocol and the bundled member
//! kinds' topics (brain monitors under `twin/brain/monitor/tavg`).

use std::path::PathBuf;

use clap::Subcommand;

/// `twin bus` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum BusCmd {
    /// Write the IDL of every bus type.
    Idl {
        /// Folder for the `.idl` files (default: print to stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the participants, topics, types, readers and writers that DDS
    /// discovery sees in the domain (with `--known`: Twin's known topics).
    Ls {
        /// Only list the topics Twin knows, without joining the domain.
        #[arg(long)]
        known: bool,
        /// Longest time to let discovery settle [s].
        #[arg(long, default_value_t = 3.0)]
        wait: f64,
    },
    /// Print live samples of a topic as JSON lines.
    Echo {
        /// Topic name.
        topic: String,
        /// Stop after this many samples.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Record every sample of the known topics to a JSON-lines file.
    Record {
        /// Output file.
        file: PathBuf,
        /// Stop after this many seconds of wall time.
        #[arg(long)]
        seconds: Option<f64>,
    },
    /// Publish a recording again.
    Play {
        /// A file written by `twin bus record`.
        file: PathBuf,
        /// Time scale: 2 plays twice as fast, 0 as fast as possible.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
    },
}

#[cfg(feature = "dds")]
mod imp {
    use std::{
        io::{BufRead, BufWriter, Write},
        sync::{
            atomic::{AtomicBool, Ordering},
            Arc,
        },
        time::{Duration, Instant},
    };

    use anyhow::{anyhow, bail, Context, Result};
    use serde_json::{json, Value};
    use twin_bus::{dds::idl_of, Bus, Participant, Reader, ReaderQos, TopicType, WriterQos};
    use twin_federates::{brain, brain_stim, demo, eeg, net};
    use twin_federation::proto;

    use super::BusCmd;

    /// One known topic: how to describe, read and write it.
    trait Known {
        fn topic(&self) -> &str;
        fn type_name(&self) -> &'static str;
        fn idl(&self) -> Result<String, String>;
        fn subscribe(&self, p: &Participant) -> Result<Box<dyn Sub>>;
        fn writer(&self, p: &Participant) -> Result<Box<dyn Pub>>;
    }
    trait Sub {
        fn take(&self, out: &mut Vec<Value>);
    }
    trait Pub {
        fn write(&self, data: Value, sim_ns: Option<u64>) -> Result<()>;
        /// Readers matched now.
        fn matched(&self) -> u32;
    }

    struct K<T> {
        topic: String,
        /// What the topic's Twin writers offer; `play` writes with it.
        qos: WriterQos,
        _t: std::marker::PhantomData<fn() -> T>,
    }

    fn k<T: TopicType>(topic: &str, qos: WriterQos) -> Box<dyn Known> {
        Box::new(K::<T> {
            topic: topic.to_owned(),
            qos,
            _t: std::marker::PhantomData,
        })
    }

    /// A federation protocol topic, with the QoS of the federation's writers.
    fn kp<T: TopicType>(topic: &str) -> Box<dyn Known> {
        k::<T>(topic, proto::writer_qos(topic).unwrap_or_default())
    }

    /// The members' state topics: reliable, the last value per instance,
    /// kept for late joiners (as the bundled members write them).
    fn durable_last() -> WriterQos {
        WriterQos::default()
            .reliable()
            .keep_last(1)
            .transient_local()
    }

    struct S<T: TopicType>(Reader<T>, Bus);
    impl<T: TopicType> Sub for S<T> {
        fn take(&self, out: &mut Vec<Value>) {
            for s in self.0.take() {
                out.push(json!({
                    "wall_ns": s.info.source_time.0,
                    "sim_ns": s.info.sim_time.map(|t| t.as_nanos()),
                    "source": self.1.participant_name(s.info.participant),
                    "seq": s.info.sequence,
                    "state": format!("{:?}", s.info.state),
                    "data": s.value.map(|v| serde_json::to_value(v).unwrap_or(Value::Null)),
                }));
            }
        }
    }

    struct W<T: TopicType>(twin_bus::Writer<T>);
    impl<T: TopicType> Pub for W<T> {
        fn write(&self, data: Value, sim_ns: Option<u64>) -> Result<()> {
            let v: T =
                serde_json::from_value(data).context("sample does not fit the topic type")?;
            let r = match sim_ns {
                Some(t) => self.0.write_at(v, twin_core::SimTime::from_nanos(t)),
                None => self.0.write(v),
            };
            r.map_err(|e| anyhow!("{e}"))
        }
        fn matched(&self) -> u32 {
            self.0.status().matched_current
        }
    }

    impl<T: TopicType> Known for K<T> {
        fn topic(&self) -> &str {
            &self.topic
        }
        fn type_name(&self) -> &'static str {
            T::TYPE_NAME
        }
        fn idl(&self) -> Result<String, String> {
            idl_of::<T>()
        }
        fn subscribe(&self, p: &Participant) -> Result<Box<dyn Sub>> {
            let t = p.topic::<T>(&self.topic)?;
            // Best effort and volatile match every writer's offer.
            let r = p.reader(&t, ReaderQos::default().keep_last(1024))?;
            Ok(Box::new(S(r, p.bus().clone())))
        }
        fn writer(&self, p: &Participant) -> Result<Box<dyn Pub>> {
            let t = p.topic::<T>(&self.topic)?;
            Ok(Box::new(W(p.writer(&t, self.qos.clone())?)))
        }
    }

    fn known() -> Vec<Box<dyn Known>> {
        vec![
            kp::<proto::ControlState>(proto::STATE_TOPIC),
            kp::<proto::ControlCommand>(proto::COMMAND_TOPIC),
            kp::<proto::MemberReport>(proto::REPORT_TOPIC),
            kp::<proto::TimeGrant>(proto::GRANT_TOPIC),
            kp::<proto::FederationStatus>(proto::STATUS_TOPIC),
            kp::<proto::SyncRequest>(proto::SYNC_TOPIC),
            kp::<proto::SyncReport>(proto::SYNCED_TOPIC),
            kp::<proto::AssistantQuestion>(proto::ASK_TOPIC),
            kp::<proto::AssistantAnswer>(proto::ANSWER_TOPIC),
            k::<demo::PointPosition>(demo::POSITION_TOPIC, durable_last()),
            k::<demo::Tick>(demo::TICK_TOPIC, durable_last()),
            k::<net::NetNodePosition>(net::POSITION_TOPIC, durable_last()),
            k::<net::NetRoute>(net::ROUTE_TOPIC, durable_last()),
            k::<net::NetStats>(net::STATS_TOPIC, durable_last()),
            // Read reliable keep-all by the network member.
            k::<net::NetExternalPosition>(
                net::EXTERNAL_TOPIC,
                WriterQos::default().reliable().keep_all(),
            ),
            k::<brain::BrainSample>(&format!("{}tavg", brain::MONITOR_PREFIX), durable_last()),
            k::<brain::BrainRegions>(brain::REGIONS_TOPIC, durable_last()),
            k::<brain::BrainStimulus>(brain::STIMULUS_TOPIC, brain::stimulus_writer_qos()),
            k::<brain_stim::ScheduledStimulus>(brain_stim::SCHEDULED_TOPIC, durable_last()),
            k::<brain::BrainChannels>(brain::SEEG_TOPIC, durable_last()),
            k::<brain::BrainChannels>(eeg::EEG_TOPIC, durable_last()),
        ]
    }

    /// The IDL files: `(file name, text)`, one per type.
    fn idl_files() -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        for t in known() {
            let file = format!("{}.idl", t.type_name().replace("::", "_"));
            if out.iter().any(|(f, _)| *f == file) {
                continue;
            }
            let idl = t.idl().map_err(|e| anyhow!("{}: {e}", t.type_name()))?;
            let text = format!(
                "// {} on topic `{}` (XCDR1, @final). Generated by `twin bus idl`; do not edit.\n{idl}",
                t.type_name(),
                t.topic()
            );
            out.push((file, text));
        }
        Ok(out)
    }

    fn stop_flag() -> Arc<AtomicBool> {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let _ = ctrlc::set_handler(move || s.store(true, Ordering::SeqCst));
        stop
    }

    /// `twin bus ls`: lets discovery settle (no change for 0.5 s, at most
    /// `wait` seconds), then prints participants and topics.
    fn ls(wait: f64) -> Result<()> {
        if !(wait.is_finite() && wait >= 0.0) {
            bail!("--wait {wait}: expected seconds ≥ 0");
        }
        let bus = crate::dds::dds_bus()?;
        let p = bus.participant("twin-bus-ls");
        let obs = p.observe_domain()?;
        let end = Instant::now() + Duration::from_secs_f64(wait);
        let mut last = obs.snapshot();
        let mut since = Instant::now();
        while Instant::now() < end && since.elapsed() < Duration::from_millis(500) {
            std::thread::sleep(Duration::from_millis(20));
            let s = obs.snapshot();
            if s != last {
                last = s;
                since = Instant::now();
            }
        }
        let name = |n: &Option<String>, guid: &str| {
            n.clone()
                .unwrap_or_else(|| format!("<unnamed {}>", &guid[..8.min(guid.len())]))
        };
        println!("participants ({}):", last.participants.len());
        for q in &last.participants {
            println!("  {:<24} {}", name(&q.name, &q.guid), q.guid);
        }
        let mut topics: Vec<(&str, &str)> = last
            .endpoints
            .iter()
            .map(|e| (e.topic.as_str(), e.type_name.as_str()))
            .collect();
        topics.sort_unstable();
        topics.dedup();
        println!("topics ({}):", topics.len());
        for (topic, ty) in topics {
            println!("  {topic}  [{ty}]");
            for e in last
                .endpoints
                .iter()
                .filter(|e| e.topic == topic && e.type_name == ty)
            {
                let kind = match e.kind {
                    twin_bus::dds::EndpointKind::Writer => "writer",
                    twin_bus::dds::EndpointKind::Reader => "reader",
                };
                println!(
                    "    {kind} {:<20} {}",
                    name(&e.participant_name, &e.guid),
                    e.qos
                );
            }
        }
        Ok(())
    }

    pub(crate) fn dispatch(cmd: BusCmd) -> Result<()> {
        if let BusCmd::Idl { out } = &cmd {
            for (file, text) in idl_files()? {
                match out {
                    Some(dir) => {
                        std::fs::create_dir_all(dir)?;
                        std::fs::write(dir.join(&file), text).with_context(|| file.clone())?;
                    }
                    None => println!("{text}"),
                }
            }
            return Ok(());
        }
        if let BusCmd::Ls { known: true, .. } = &cmd {
            for t in known() {
                println!("{:<28} {}", t.topic(), t.type_name());
            }
            return Ok(());
        }
        if let BusCmd::Ls { wait, .. } = &cmd {
            return ls(*wait);
        }
        let bus = crate::dds::dds_bus()?;
        let p = bus.participant("twin-bus-tool");
        match cmd {
            BusCmd::Echo { topic, count } => {
                let t = known()
                    .into_iter()
                    .find(|t| t.topic() == topic)
                    .ok_or_else(|| anyhow!("unknown topic `{topic}`; see `twin bus ls`"))?;
                let sub = t.subscribe(&p)?;
                let stop = stop_flag();
                let (mut n, mut buf) = (0u64, Vec::new());
                while !stop.load(Ordering::SeqCst) && count.is_none_or(|c| n < c) {
                    sub.take(&mut buf);
                    for v in buf.drain(..) {
                        println!("{v}");
                        n += 1;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(())
            }
            BusCmd::Record { file, seconds } => {
                let subs: Vec<(String, Box<dyn Sub>)> = known()
                    .into_iter()
                    .map(|t| Ok((t.topic().to_owned(), t.subscribe(&p)?)))
                    .collect::<Result<_>>()?;
                let mut out = BufWriter::new(
                    std::fs::File::create(&file).with_context(|| file.display().to_string())?,
                );
                let stop = stop_flag();
                let start = Instant::now();
                let mut buf = Vec::new();
                while !stop.load(Ordering::SeqCst)
                    && seconds.is_none_or(|s| start.elapsed().as_secs_f64() < s)
                {
                    for (topic, s) in &subs {
                        s.take(&mut buf);
                        for mut v in buf.drain(..) {
                            v["topic"] = json!(topic);
                            writeln!(out, "{v}")?;
                        }
                    }
                    out.flush()?;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(())
            }
            BusCmd::Play { file, speed } => {
                if !(speed.is_finite() && speed >= 0.0) {
                    bail!("--speed must be a finite number ≥ 0 (got {speed})");
                }
                let kinds = known();
                let mut writers: Vec<(String, Box<dyn Pub>)> = Vec::new();
                let text = std::io::BufReader::new(
                    std::fs::File::open(&file).with_context(|| file.display().to_string())?,
                );
                let (start, mut first) = (Instant::now(), None::<u64>);
                for (i, line) in text.lines().enumerate() {
                    let line = line?;
                    let at =
                        |e: &dyn std::fmt::Display| anyhow!("{}:{}: {e}", file.display(), i + 1);
                    let v: Value = serde_json::from_str(&line).map_err(|e| at(&e))?;
                    let topic = v["topic"]
                        .as_str()
                        .ok_or_else(|| at(&"no `topic`"))?
                        .to_owned();
                    if v["data"].is_null() {
                        continue; // instance-state changes are not replayed
                    }
                    if !writers.iter().any(|(t, _)| *t == topic) {
                        let kind = kinds
                            .iter()
                            .find(|k| k.topic() == topic)
                            .ok_or_else(|| at(&format!("unknown topic `{topic}`")))?;
                        let w = kind.writer(&p)?;
                        // Let discovery settle so the first samples reach every
                        // reader already there, not only the first one matched:
                        // at least one match and no change for 250 ms (at most 3 s).
                        let until = Instant::now() + Duration::from_secs(3);
                        let (mut n, mut since) = (w.matched(), Instant::now());
                        while Instant::now() < until
                            && (n == 0 || since.elapsed() < Duration::from_millis(250))
                        {
                            std::thread::sleep(Duration::from_millis(10));
                            let now = w.matched();
                            if now != n {
                                (n, since) = (now, Instant::now());
                            }
                        }
                        writers.push((topic.clone(), w));
                    }
                    if speed > 0.0 {
                        let wall = v["wall_ns"].as_u64().unwrap_or(0);
                        let f = *first.get_or_insert(wall);
                        let due =
                            Duration::from_secs_f64(wall.saturating_sub(f) as f64 / 1e9 / speed);
                        if let Some(d) = due.checked_sub(start.elapsed()) {
                            std::thread::sleep(d);
                        }
                    }
                    let w = &writers
                        .iter()
                        .find(|(t, _)| *t == topic)
                        .expect("added above")
                        .1;
                    w.write(v["data"].clone(), v["sim_ns"].as_u64())
                        .map_err(|e| at(&e))?;
                }
                // Let reliable writers deliver before the process ends.
                std::thread::sleep(Duration::from_millis(500));
                Ok(())
            }
            BusCmd::Idl { .. } | BusCmd::Ls { .. } => unreachable!("handled above"),
        }
    }
}

#[cfg(not(feature = "dds"))]
mod imp {
    use super::BusCmd;

    pub(crate) fn dispatch(_: BusCmd) -> anyhow::Result<()> {
        anyhow::bail!(
            "this twin was built without DDS support (cargo build -p twin-cli --features dds)"
        )
    }
}

pub(crate) use imp::dispatch;

//! The simulator: owns the step loop and nothing else.
//!
//! One step `s` does, in this fixed order (TVB's `Simulator.__call__`):
//!
//! 1. integrate the state with the coupling computed for step `s` (every
//!    integrator stage reuses it);
//! 2. store the coupling variables of the new state in the delay history (`f32`);
//! 3. compute the coupling for step `s + 1` from the history;
//! 4. pass the observed variables to every monitor.
//!
//! Steps are numbered like TVB's: with a full initial history of `H` slots the
//! history holds steps `0 … H−1`, the current state is step `H − 1` and the first
//! step computed is `H`, at time `H·dt`.

use twin_core::SimTime;

use crate::{
    connectome::Connectome,
    coupling::{Coupling, CouplingEngine},
    error::BrainError,
    history::History,
    integrator::{apply_bounds, Scheme, Stepper},
    models::{Bound, NeuralMass},
    monitors::{Monitor, MonitorContext, Sample},
    noise::{FastNormal, Noise, NoiseGenerator, NormalStream, RandomState},
    stimulus::{CompiledStimulus, RegionStimulus},
};

/// How the delay history (and so the initial state) is filled.
#[derive(Debug, Clone, PartialEq)]
pub enum InitialConditions {
    /// TVB's default: every slot drawn uniformly from the model's state ranges
    /// (`numpy.random.RandomState.uniform`, state variable by state variable).
    /// With noise, the draws come from the noise stream first, as in TVB; without,
    /// from a stream seeded with `seed`. The current step is then 0.
    Random {
        /// Seed used when the integrator has no noise.
        seed: u32,
    },
    /// The same state (`nsv × N`, state-variable-major) in every history slot.
    Constant(Vec<f64>),
    /// A full history, `len × nsv × N` (oldest first, last = current state);
    /// `len` must be at least the horizon; the last `H` slots are used, time
    /// point `p` being step `p`. With `len == H` this is exactly TVB's behaviour;
    /// for longer histories TVB places the slots consistently only when `len` is a
    /// multiple of `H`.
    History {
        /// Number of time points.
        len: usize,
        /// Values, C order (time, state variable, region).
        data: Vec<f64>,
    },
}

/// Everything needed to build a [`Simulator`].
#[derive(Debug)]
pub struct SimulatorBuilder {
    connectome: Connectome,
    model: Box<dyn NeuralMass>,
    coupling: Coupling,
    speed: f64,
    dt: f64,
    scheme: Scheme,
    noise: Option<Noise>,
    initial: InitialConditions,
    voi: Option<Vec<String>>,
    monitors: Vec<Box<dyn Monitor>>,
    stimuli: Vec<RegionStimulus>,
}

impl SimulatorBuilder {
    /// Starts from a connectome and a model, with TVB's defaults elsewhere:
    /// Linear coupling (a = 2⁻⁸), speed 3 mm/ms, Heun, dt = 0.01220703125 ms,
    /// no noise, random initial conditions (seed 42).
    pub fn new(connectome: Connectome, model: Box<dyn NeuralMass>) -> Self {
        SimulatorBuilder {
            connectome,
            model,
            coupling: Coupling::Linear {
                a: 0.00390625,
                b: 0.0,
            },
            speed: 3.0,
            dt: 0.01220703125,
            scheme: Scheme::Heun,
            noise: None,
            initial: InitialConditions::Random { seed: 42 },
            voi: None,
            monitors: Vec::new(),
            stimuli: Vec::new(),
        }
    }

    /// Sets the coupling function.
    pub fn coupling(mut self, c: Coupling) -> Self {
        self.coupling = c;
        self
    }

    /// Sets the conduction speed \[mm/ms\] (infinite: no delays).
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }

    /// Sets the integration step \[ms\].
    pub fn dt(mut self, dt: f64) -> Self {
        self.dt = dt;
        self
    }

    /// Sets the integration scheme.
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Adds additive noise (makes the integrator stochastic).
    pub fn noise(mut self, noise: Noise) -> Self {
        self.noise = Some(noise);
        self
    }

    /// Sets the initial conditions.
    pub fn initial(mut self, ic: InitialConditions) -> Self {
        self.initial = ic;
        self
    }

    /// Sets the variables of interest passed to monitors (state variable names or
    /// the model's derived observables); default: the model's.
    pub fn voi<S: Into<String>>(mut self, voi: impl IntoIterator<Item = S>) -> Self {
        self.voi = Some(voi.into_iter().map(Into::into).collect());
        self
    }

    /// Adds a monitor.
    pub fn monitor(mut self, m: impl Monitor + 'static) -> Self {
        self.monitors.push(Box::new(m));
        self
    }

    /// Adds a boxed monitor.
    pub fn boxed_monitor(mut self, m: Box<dyn Monitor>) -> Self {
        self.monitors.push(m);
        self
    }

    /// Adds a region stimulus (several add up; see [`crate::stimulus`]).
    pub fn stimulus(mut self, s: RegionStimulus) -> Self {
        self.stimuli.push(s);
        self
    }

    /// Validates everything and builds the simulator.
    pub fn build(self) -> Result<Simulator, BrainError> {
        let SimulatorBuilder {
            connectome,
            mut model,
            coupling,
            speed,
            dt,
            scheme,
            noise,
            initial,
            voi,
            mut monitors,
            stimuli,
        } = self;
        if !(dt.is_finite() && dt > 0.0) {
            return Err(BrainError::Invalid {
                what: "dt",
                reason: format!("{dt} ms is not a positive finite step"),
            });
        }
        if speed.is_nan() || speed <= 0.0 {
            return Err(BrainError::Invalid {
                what: "conduction speed",
                reason: format!("{speed} mm/ms is not positive"),
            });
        }
        if noise.is_some() && scheme == Scheme::Rk4 {
            return Err(BrainError::Invalid {
                what: "integrator",
                reason: "RK4 has no stochastic variant (as in TVB); use Heun or Euler".into(),
            });
        }
        let n = connectome.n_regions();
        model.prepare(n)?;
        let nsv = model.state_variables().len();
        let cvar = model.cvar().to_vec();
        // Coupling terms that the model multiplies by a zero gain are neither
        // stored nor computed (they stay +0; see
        // `NeuralMass::unused_coupling_terms`), for the couplings with one
        // term per coupling variable.
        let per_variable = matches!(
            coupling,
            Coupling::Linear { .. } | Coupling::Scaling { .. } | Coupling::Difference { .. }
        );
        let unused = match per_variable {
            true => model
                .unused_coupling_terms()
                .min(cvar.len().saturating_sub(1)),
            false => 0,
        };
        let coupled = cvar[..cvar.len() - unused].to_vec();
        let idelays = connectome.idelays(speed, dt);
        let horizon = idelays.iter().copied().max().unwrap_or(0) + 1;
        let engine = CouplingEngine::new(n, coupled.len(), connectome.weights(), &idelays, horizon);
        let mut history = History::new(horizon, coupled.len(), n);
        let bounds = model.boundaries().to_vec();
        let gfun = noise.as_ref().map(|nz| nz.gfun(nsv, n)).transpose()?;
        let mut rng = noise.as_ref().map(|nz| RandomState::new(nz.seed));

        // Fill the history as TVB does, then take the current state from it.
        let mut hist = vec![0.0; horizon * nsv * n];
        let current_step = match &initial {
            InitialConditions::Random { seed } => {
                let r = rng.get_or_insert_with(|| RandomState::new(*seed));
                let ranges = model.state_variable_range();
                for (sv, &(lo, hi)) in ranges.iter().enumerate() {
                    for t in 0..horizon {
                        for i in 0..n {
                            hist[(t * nsv + sv) * n + i] = r.uniform(lo, hi);
                        }
                    }
                }
                if noise.is_none() {
                    rng = None;
                }
                0
            }
            InitialConditions::Constant(state) => {
                if state.len() != nsv * n {
                    return Err(BrainError::Shape {
                        what: "initial state",
                        expected: vec![nsv, n],
                        got: vec![state.len()],
                    });
                }
                for t in 0..horizon {
                    hist[t * nsv * n..(t + 1) * nsv * n].copy_from_slice(state);
                }
                horizon as u64 - 1
            }
            InitialConditions::History { len, data } => {
                if *len < horizon || data.len() != len * nsv * n {
                    return Err(BrainError::Shape {
                        what: "initial history",
                        expected: vec![horizon, nsv, n],
                        got: vec![*len, data.len() / (nsv * n).max(1)],
                    });
                }
                // Time point p of the given history is step p; keep the last H.
                for p in len - horizon..*len {
                    let slot = p % horizon;
                    hist[slot * nsv * n..(slot + 1) * nsv * n]
                        .copy_from_slice(&data[p * nsv * n..(p + 1) * nsv * n]);
                }
                *len as u64 - 1
            }
        };
        let mut cvals = vec![0.0; coupled.len() * n];
        for t in 0..horizon {
            let slice = &mut hist[t * nsv * n..(t + 1) * nsv * n];
            apply_bounds(&bounds, slice, n);
            for (k, &sv) in coupled.iter().enumerate() {
                cvals[k * n..(k + 1) * n].copy_from_slice(&slice[sv * n..(sv + 1) * n]);
            }
            history.update(t as u64, &cvals);
        }
        let slot = (current_step % horizon as u64) as usize;
        let state = hist[slot * nsv * n..(slot + 1) * nsv * n].to_vec();

        // Variables of interest.
        let voi_names: Vec<String> = match voi {
            Some(v) => v,
            None => model.default_voi().iter().map(|s| s.to_string()).collect(),
        };
        let mut voi_idx = Vec::with_capacity(voi_names.len());
        for name in &voi_names {
            let svs = model.state_variables();
            let derived = model.derived_observables();
            let idx = if let Some(k) = svs.iter().position(|s| s == name) {
                Observable::State(k)
            } else if let Some(k) = derived.iter().position(|s| s == name) {
                Observable::Derived(k)
            } else {
                return Err(BrainError::Invalid {
                    what: "variable of interest",
                    reason: format!(
                        "`{name}` is not one of {} (state variables) or {:?}",
                        svs.join(", "),
                        derived
                    ),
                });
            };
            voi_idx.push(idx);
        }
        let ctx = MonitorContext {
            dt,
            n_nodes: n,
            voi: &voi_names,
            connectome: &connectome,
        };
        for m in &mut monitors {
            m.configure(&ctx)?;
        }
        let stimuli = stimuli
            .iter()
            .enumerate()
            .map(|(k, s)| s.compile(k, &connectome, model.state_variables(), &cvar))
            .collect::<Result<Vec<_>, _>>()?;
        let n_terms = coupling.n_terms(cvar.len());
        let stepper = Stepper::new(scheme, dt, nsv * n, gfun);
        let mut sim = Simulator {
            model,
            coupling,
            engine,
            history,
            stepper,
            rng: noise.as_ref().and_then(|nz| match nz.generator {
                NoiseGenerator::Numpy => rng.map(NormalStream::Numpy),
                NoiseGenerator::Fast => {
                    Some(NormalStream::Fast(FastNormal::new(u64::from(nz.seed))))
                }
            }),
            n,
            dt,
            speed,
            idelays,
            coupled,
            bounds,
            state,
            cvals,
            c: vec![0.0; n_terms * n],
            step: current_step,
            voi_names,
            voi: voi_idx,
            observed: vec![0.0; 0],
            monitors,
            external: None,
            stimuli,
            stim_buf: vec![0.0; nsv * n],
            stim_origin: current_step,
            connectome,
        };
        sim.observed = vec![0.0; sim.voi.len() * n];
        let terms = sim.coupling.n_terms(sim.coupled.len()) * n;
        sim.engine.compute_next(
            &sim.coupling,
            &sim.history,
            sim.step + 1,
            &mut sim.c[..terms],
        );
        Ok(sim)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Observable {
    State(usize),
    Derived(usize),
}

/// A configured region-level simulation.
#[derive(Debug)]
pub struct Simulator {
    model: Box<dyn NeuralMass>,
    coupling: Coupling,
    engine: CouplingEngine,
    history: History,
    stepper: Stepper,
    rng: Option<NormalStream>,
    n: usize,
    dt: f64,
    speed: f64,
    idelays: Vec<usize>,
    /// The coupling variables stored in the history and coupled (the
    /// model's, less those whose coupling it multiplies by zero).
    coupled: Vec<usize>,
    bounds: Vec<Bound>,
    state: Vec<f64>,
    cvals: Vec<f64>,
    c: Vec<f64>,
    step: u64,
    voi_names: Vec<String>,
    voi: Vec<Observable>,
    observed: Vec<f64>,
    monitors: Vec<Box<dyn Monitor>>,
    /// Constant stimulus set from outside ([`Simulator::set_stimulus`]).
    external: Option<Vec<f64>>,
    /// Patterned stimuli; their time is `(step − stim_origin − 1) · dt`.
    stimuli: Vec<CompiledStimulus>,
    stim_buf: Vec<f64>,
    stim_origin: u64,
    connectome: Connectome,
}

impl Simulator {
    /// Number of regions.
    pub fn n_regions(&self) -> usize {
        self.n
    }

    /// Integration step \[ms\].
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Conduction speed \[mm/ms\].
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Horizon `H` = max delay in steps + 1.
    pub fn horizon(&self) -> usize {
        self.history.horizon()
    }

    /// Integer delays in steps, row-major `N × N`.
    pub fn idelays(&self) -> &[usize] {
        &self.idelays
    }

    /// Number of non-zero weights (edges summed per coupling term and step).
    pub fn n_connections(&self) -> usize {
        self.engine.nnz()
    }

    /// The model.
    pub fn model(&self) -> &dyn NeuralMass {
        self.model.as_ref()
    }

    /// The connectome.
    pub fn connectome(&self) -> &Connectome {
        &self.connectome
    }

    /// The last completed step (TVB's `current_step`).
    pub fn current_step(&self) -> u64 {
        self.step
    }

    /// Time of the last completed step \[ms\] (`step · dt`).
    pub fn time_ms(&self) -> f64 {
        self.step as f64 * self.dt
    }

    /// Time of the last completed step as [`SimTime`] (rounded to the nanosecond).
    pub fn sim_time(&self) -> SimTime {
        SimTime::from_nanos((self.time_ms() * 1e6).round().max(0.0) as u64)
    }

    /// The current state, `nsv × N` state-variable-major.
    pub fn state(&self) -> &[f64] {
        &self.state
    }

    /// The coupling input that the next step will use, `terms × N`.
    pub fn coupling_input(&self) -> &[f64] {
        &self.c
    }

    /// Names of the variables of interest passed to monitors.
    pub fn voi(&self) -> &[String] {
        &self.voi_names
    }

    /// The monitors, in the order they were added.
    pub fn monitors(&self) -> &[Box<dyn Monitor>] {
        &self.monitors
    }

    /// Sets (or clears) a constant stimulus added as `dt · s` to the state
    /// derivative in every step, `nsv × N` state-variable-major, on top of the
    /// patterned stimuli given to the builder. Takes effect at the next step, so
    /// an injection reaches the model within one step.
    pub fn set_stimulus(&mut self, stimulus: Option<Vec<f64>>) -> Result<(), BrainError> {
        if let Some(s) = &stimulus {
            if s.len() != self.state.len() {
                return Err(BrainError::Shape {
                    what: "stimulus",
                    expected: vec![self.model.state_variables().len(), self.n],
                    got: vec![s.len()],
                });
            }
        }
        self.external = stimulus;
        Ok(())
    }

    /// The total stimulus that step `step` applies (`nsv × N`), or `None` when
    /// there is none.
    pub fn stimulus_at(&self, step: u64) -> Option<Vec<f64>> {
        let mut buf = vec![0.0; self.state.len()];
        self.fill_stimulus(step, &mut buf).then_some(buf)
    }

    /// Fills `buf` with the stimulus of step `s`; false if there is none.
    fn fill_stimulus(&self, s: u64, buf: &mut [f64]) -> bool {
        match &self.external {
            Some(e) => buf.copy_from_slice(e),
            None if self.stimuli.is_empty() => return false,
            None => buf.fill(0.0),
        }
        let t = s.saturating_sub(self.stim_origin + 1) as f64 * self.dt;
        for st in &self.stimuli {
            st.add(t, buf, self.n);
        }
        true
    }

    /// Advances one step; returns the step number.
    pub fn step(&mut self) -> u64 {
        self.advance();
        self.step
    }

    fn advance(&mut self) {
        let s = self.step + 1;
        let n = self.n;
        let stim = if self.stimuli.is_empty() {
            self.external.as_deref()
        } else {
            let mut buf = std::mem::take(&mut self.stim_buf);
            self.fill_stimulus(s, &mut buf);
            self.stim_buf = buf;
            Some(&self.stim_buf[..])
        };
        self.stepper.step(
            self.model.as_ref(),
            &mut self.state,
            &self.c,
            stim,
            n,
            &self.bounds,
            self.rng.as_mut(),
        );
        for (k, &sv) in self.coupled.iter().enumerate() {
            self.cvals[k * n..(k + 1) * n].copy_from_slice(&self.state[sv * n..(sv + 1) * n]);
        }
        self.history.update(s, &self.cvals);
        let terms = self.coupling.n_terms(self.coupled.len()) * n;
        self.engine
            .compute_next(&self.coupling, &self.history, s + 1, &mut self.c[..terms]);
        self.step = s;
    }

    fn observe(&mut self) {
        let n = self.n;
        for (k, o) in self.voi.iter().enumerate() {
            let out = &mut self.observed[k * n..(k + 1) * n];
            match *o {
                Observable::State(sv) => out.copy_from_slice(&self.state[sv * n..(sv + 1) * n]),
                Observable::Derived(d) => self.model.observe_derived(d, &self.state, n, out),
            }
        }
    }

    /// Runs `n_steps` steps; each monitor output is passed to `sink` with the
    /// monitor's index.
    pub fn run(&mut self, n_steps: u64, sink: &mut dyn FnMut(usize, Sample<'_>)) {
        let has_monitors = !self.monitors.is_empty();
        for _ in 0..n_steps {
            self.advance();
            if has_monitors {
                self.observe();
                for (k, m) in self.monitors.iter_mut().enumerate() {
                    if let Some(sample) = m.record(self.step, &self.observed) {
                        sink(k, sample);
                    }
                }
            }
        }
    }

    /// Runs for `duration_ms` of simulated time (`ceil(duration / dt)` steps, as TVB).
    pub fn run_for(&mut self, duration_ms: f64, sink: &mut dyn FnMut(usize, Sample<'_>)) {
        let steps = (duration_ms / self.dt).ceil().max(0.0) as u64;
        self.run(steps, sink);
    }

    /// Runs until the time of the last completed step reaches `t` (the "advance to
    /// time t" entry point for a federation clock); returns the steps taken.
    pub fn run_until(&mut self, t: SimTime, sink: &mut dyn FnMut(usize, Sample<'_>)) -> u64 {
        let target_ms = t.as_nanos() as f64 * 1e-6;
        let target_step = (target_ms / self.dt + 1e-9).floor().max(0.0) as u64;
        let steps = target_step.saturating_sub(self.step);
        self.run(steps, sink);
        steps
    }
}

#[cfg(test)]
mod tests;

//! # twin-brain: region-level whole-brain simulation, numerically identical to TVB
//!
//! A simulator of The Virtual Brain's class: neural mass models at the nodes of
//! a structural connectome, coupled through it with conduction delays,
//! integrated with or without noise, and observed through monitors. It follows
//! TVB 2.10's semantics closely enough to reproduce its trajectories bit for bit
//! (float32 history and weights, delays `rint(length / speed / dt)`, coupling
//! computed once per step and reused by every integrator stage, NumPy's
//! summation order; see [`coupling`] and [`numpy_sum`]).
//!
//! The crate knows nothing of the bus, async runtimes or HTTP: a federation
//! member drives it through [`Simulator::run_until`] and reads monitor samples.
//!
//! ## Author, assemble, run
//!
//! ```
//! use twin_brain::{
//!     models::Generic2dOscillator, monitors::TemporalAverage, Connectome, Coupling,
//!     InitialConditions, Scheme, SimulatorBuilder,
//! };
//!
//! // A three-region toy connectome (weights: to-row, from-column; lengths in mm).
//! let w = vec![0.0, 1.0, 0.5, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0];
//! let l = vec![0.0, 40.0, 80.0, 40.0, 0.0, 10.0, 80.0, 10.0, 0.0];
//! let conn = Connectome::new(3, w, l).unwrap();
//!
//! let mut sim = SimulatorBuilder::new(conn, Box::new(Generic2dOscillator::default()))
//!     .coupling(Coupling::linear(0.0154))
//!     .speed(4.0)
//!     .dt(0.1)
//!     .scheme(Scheme::Heun)
//!     .initial(InitialConditions::Constant(vec![0.1, 0.2, 0.3, 0.0, 0.0, 0.0]))
//!     .monitor(TemporalAverage::new(1.0))
//!     .build()
//!     .unwrap();
//! assert_eq!(sim.horizon(), 201); // 80 mm / 4 mm/ms / 0.1 ms + 1
//!
//! let mut samples = 0;
//! sim.run_for(10.0, &mut |_monitor, sample| {
//!     assert_eq!(sample.data.len(), 3); // one VOI (V) x 3 regions
//!     samples += 1;
//! });
//! assert_eq!(samples, 10);
//! ```
//!
//! ## Modules
//!
//! * [`connectome`]: read/validate/write TVB connectivity archives and matrices.
//! * [`config`]: a serialisable description of a whole simulation (for `twin brain simulate`).
//! * [`models`]: one neural mass per file, with equations, references and TVB defaults.
//! * [`coupling`], [`history`], [`integrator`], [`noise`]: the pieces of one step.
//! * [`stimulus`]: region stimuli (pulse trains, sinusoids, tables × spatial weights).
//! * [`monitors`]: Raw, SubSample, TemporalAverage, SpatialAverage, Bold, Projection.
//! * [`sweep`]: parameter sweeps over every core.
//! * [`simd`]: AVX-512 / AVX2 clones of the hot loops, picked at run time.
//! * [`output`]: incremental `.npy` + JSON writers for monitor samples.
//! * [`npy`]: a small `.npy`/`.npz` reader and writer.

// Numeric kernels index several parallel arrays with one counter, on purpose.
#![allow(clippy::needless_range_loop)]

pub mod config;
pub mod connectome;
pub mod coupling;
pub mod error;
pub mod history;
pub mod integrator;
pub mod models;
pub mod monitors;
pub mod noise;
pub mod npy;
pub mod numpy_sum;
pub mod output;
pub mod param;
pub mod simd;
pub mod simulator;
pub mod stimulus;
pub mod sweep;

pub use config::SimulationConfig;
pub use connectome::Connectome;
pub use coupling::Coupling;
pub use error::{BrainError, ConnectomeError};
pub use integrator::Scheme;
pub use models::NeuralMass;
pub use noise::Noise;
pub use param::Param;
pub use simulator::{InitialConditions, Simulator, SimulatorBuilder};
pub use stimulus::{RegionStimulus, Temporal};

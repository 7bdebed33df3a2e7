//! # twin-vep: the virtual epileptic patient
//!
//! The brain simulator becomes a patient's *twin* when it is fitted to that
//! patient's recordings and then used to predict interventions: the virtual
//! epileptic patient (VEP) workflow of Jirsa et al. (2017) and Hashemi et al.
//! (2020). A network of two-dimensional Epileptors on the patient's connectome
//! ([`model`]), SEEG features ([`features`]), the posterior over each region's
//! excitability x0 and the coupling K ([`fit`], with the exact gradient of the
//! discretised model from [`objective`]), virtual resection and stimulation
//! ([`predict`]) and an HTML report ([`report`]).
//!
//! No patient data is available to the project, so [`patient`] builds
//! synthetic patients from tvb-data connectomes whose truth is kept in a
//! separate folder; every later step reads only the patient folder, the same
//! path a clinic's data would take.
//!
//! ## Workflow
//!
//! ```text
//! patient folder ──features──▶ log-power envelopes, onsets
//!        │                              │
//!        └──────────── fit ◀────────────┘   MAP (L-BFGS) + Laplace; NUTS + R-hat/ESS
//!                       │
//!                    predict                resections / stimulation under posterior draws
//!                       │
//!                    report                 HTML with inline SVG
//! ```
//!
//! ```
//! use twin_vep::{fit::{fit_laplace, FitSettings}, patient::*};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let p = dir.path().join("patient");
//! let spec = SyntheticSpec { n_ez: 1, n_pz: 1, n_shafts: 4, duration_s: 20.0, ..Default::default() };
//! let syn = synthesize(&toy_connectome(8, 1), &spec).unwrap();
//! syn.write(&p, &default_truth_dir(&p)).unwrap();
//! let (fit, _draws) = fit_laplace(&Patient::load(&p).unwrap(), &FitSettings::default()).unwrap();
//! assert_eq!(fit.regions.len(), 8);
//! ```
//!
//! ## Modules
//!
//! * [`model`]: the Epileptor2D network, Euler / Euler–Maruyama, stimuli.
//! * [`objective`]: log posterior of log-power features and its adjoint gradient.
//! * [`onset`]: the smooth censored onset-time likelihood NUTS converges on.
//! * [`optim`]: L-BFGS and the symmetric eigen-solver of the Laplace step.
//! * [`fit`], [`hmc`], [`nuts`]: MAP, Laplace, NUTS / static HMC, diagnostics, classification.
//! * [`patient`], [`sensors`], [`io`]: folder layout, shafts and gain, arrays.
//! * [`features`]: bipolar montage, high-pass, envelopes, onsets.
//! * [`predict`], [`report`], [`study`]: interventions, HTML, accuracy study.

// Numeric kernels index several parallel arrays with one counter, on purpose.
#![allow(clippy::needless_range_loop)]

pub mod error;
pub mod features;
pub mod fit;
pub mod hmc;
pub mod io;
pub mod model;
pub mod nuts;
pub mod objective;
pub mod onset;
pub mod optim;
pub mod patient;
pub mod predict;
pub mod report;
pub mod rng;
pub mod sensors;
pub mod study;

pub use error::VepError;

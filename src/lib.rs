//! # dmfe
//!
//! Solvers of the mean-field theory of infinite-dimensional glasses and dense suspensions
//! driven by global shear or by random local displacements (AQS and AQRD protocols), after
//! Agoritsas, "Mean-field dynamics of infinite-dimensional particle systems: global shear
//! versus random local forcing", arXiv:2009.08944 (the paper; equation numbers cite it, and
//! `docs/equations.md` restates the equations solved, with labels such as (O1) of its own).
//!
//! The crate splits what the physics is (the model: [`potential`], [`driving`],
//! [`schedule`], [`noise`]), the problem (grid and parameters, in [`config`]) and the
//! numerics ([`dynamics`], [`statics`]), joined by one `solve` call per solver; [`flow`]
//! turns start-ups solved by [`dynamics::solve`] into flow-curve points.

#![deny(missing_docs)]

pub mod checkpoint;
pub mod config;
pub mod driving;
pub mod dynamics;
pub mod error;
pub mod flow;
pub mod inspect;
pub mod linalg;
pub mod noise;
pub mod output;
pub mod potential;
pub mod ranks;
pub mod schedule;
pub mod statics;

pub use error::{Error, Result};

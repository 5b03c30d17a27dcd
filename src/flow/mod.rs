//! Flow curves sigma(gamma_dot) (`dmfe flow`): the start-up at each constant rate is solved
//! by the population solver ([`crate::dynamics::solve`]) until its one-time observables are
//! steady ([`steady`]), and summarised as a [`FlowPoint`] ([`point`]).

pub mod point;
pub mod steady;

pub use point::{Convergence, FlowPoint, Overshoot, Startup, SteadyKernels};
pub use steady::{Steady, Window};

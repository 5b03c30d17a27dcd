//! Flow curves sigma(gamma_dot) (`dmfe flow`): the start-up at each constant rate is solved
//! by the population solver ([`crate::dynamics::solve`]) until its one-time observables are
//! steady ([`steady`]), beside its unstrained control with the same members ([`control`]),
//! and summarised as a [`FlowPoint`] ([`point`]), over as many independent seeds as
//! [`budget`] says.

pub mod budget;
pub mod control;
pub mod point;
pub mod steady;

pub use budget::SeedBudget;
pub use control::{green_kubo, linear_stress, Control};
pub use point::{Convergence, FlowPoint, Overshoot, Seeds, Startup, SteadyKernels};
pub use steady::{Steady, Window};

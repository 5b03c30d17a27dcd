//! The replica-symmetric state-following solver of docs/equations.md (paper Eqs. (26)-(36)): glasses
//! prepared in equilibrium, followed quasistatically in strain (AQS) or random strain
//! (AQRD), and the dynamical transition.
//!
//! Model: [`StaticModel`] (interaction, state point, driving variance F). Numerics:
//! [`free_energy`] evaluates G and its stationarity conditions; [`branch`] follows the
//! stationary point; [`mod@transition`] locates phi_hat_d and T_d.

pub mod branch;
pub mod cage;
pub mod free_energy;
mod gaussian;
pub mod quadrature;
pub mod transition;

pub use branch::{solve_branch, Branch, BranchPoint, BranchSpec, Summary};
pub use cage::{Cage, CageValues, Interaction};
pub use free_energy::{Evaluation, State, StaticModel};
pub use transition::{equilibrium_cage, transition, Transition, TransitionKind};

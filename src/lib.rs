//! terraform-provider-vmax: a Terraform provider for Dell EMC VMAX / PowerMax
//! block storage over iSCSI, with `vmax-sim`, a Unisphere REST simulator.
//!
//! See `ARCHITECTURE.md` for the layers: `tfplugin` (our tfplugin6 server),
//! `provider` (Terraform resources), `driver` (the VMAX iSCSI driver's
//! semantics), `unisphere` (REST client) and `sim` (the simulator).

pub mod driver;
pub mod provider;
pub mod sim;
pub mod tfplugin;
pub mod unisphere;

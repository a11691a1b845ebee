//! `terraform-provider-vmax`: the Terraform provider binary. Terraform runs
//! it; run by hand it explains itself and exits 1 (or `--debug` serves it
//! for a debugger and prints `TF_REATTACH_PROVIDERS`).

use terraform_provider_vmax::provider::VmaxProvider;
use terraform_provider_vmax::tfplugin;

#[tokio::main]
async fn main() {
    tfplugin::log::init();
    let code = tfplugin::plugin::serve(VmaxProvider::default()).await;
    std::process::exit(code);
}

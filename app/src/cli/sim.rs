//! `lpsaring sim`: a standalone RouterOS API simulator for demos, benchmarks and trying a config
//! without a MikroTik.

use std::net::SocketAddr;

use clap::Args;

use super::CliError;

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8728")]
    pub listen: SocketAddr,
    #[arg(long, default_value = "admin")]
    pub user: String,
    #[arg(long)]
    pub password: String,
    /// Pseudo-random hotspot hosts to create at start.
    #[arg(long, default_value_t = 0)]
    pub hosts: usize,
}

pub async fn run(args: SimArgs) -> Result<(), CliError> {
    println!(
        "RouterOS API simulator on {} (user {:?}, {} hosts). Stop with Ctrl+C.",
        args.listen, args.user, args.hosts
    );
    lpsaring_routeros_sim::run_standalone(args.listen, args.user, args.password, args.hosts)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))
}

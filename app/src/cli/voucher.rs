//! `lpsaring voucher create|list|revoke`: voucher batches from the shell. Only SQL is touched (and
//! the server secret, which keys the codes), so it works beside the running service.

use std::io::Write as _;

use clap::Subcommand;
use lpsaring_payments::vouchers::api::CreateBatch;

use super::CliError;
use super::package::{failed, offline_payments};
use crate::settings::Settings;

/// Batches at least this big get a progress line on stderr.
const PROGRESS_FROM: u32 = 1_000;

#[derive(Debug, Subcommand)]
pub enum VoucherCommand {
    /// Create a batch: prints the batch id, then the codes one a line.
    Create {
        /// The package each code is worth.
        #[arg(long)]
        package: i64,
        /// How many codes (1 to 10000).
        #[arg(long)]
        count: u32,
        /// Visible prefix of the codes (1 to 6 letters or digits; default `V`).
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Print every batch, one JSON object a line, newest first.
    List,
    /// Revoke a batch's unused codes.
    Revoke { batch: String },
}

pub async fn run(settings: Settings, command: VoucherCommand) -> Result<(), CliError> {
    let (payments, _scratch) = offline_payments(&settings).await?;
    match command {
        VoucherCommand::Create {
            package,
            count,
            prefix,
        } => {
            let input = CreateBatch {
                package_id: package,
                count,
                prefix,
            };
            let created = payments
                .create_vouchers(&input, None, |done, total| {
                    if count >= PROGRESS_FROM {
                        eprint!("\r{done}/{total} codes written");
                        if done == total {
                            eprintln!();
                        }
                    }
                })
                .await
                .map_err(failed)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", created.batch.batch_id).map_err(failed)?;
            for code in &created.codes {
                writeln!(out, "{code}").map_err(failed)?;
            }
        }
        VoucherCommand::List => {
            for batch in payments.voucher_batches().await.map_err(failed)? {
                println!("{}", serde_json::to_string(&batch).map_err(failed)?);
            }
        }
        VoucherCommand::Revoke { batch } => {
            let after = payments.revoke_batch(&batch, None).await.map_err(failed)?;
            println!("{}", serde_json::to_string(&after).map_err(failed)?);
        }
    }
    Ok(())
}

//! `mandel merge`: shard files in, the job's output out, through the library's [`ShardSet`].

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use mandel::ShardSet;

use crate::cli::MergeArgs;
use crate::interrupt::Output;
use crate::render_cmd::{group_thousands, output_format};

pub fn run(args: MergeArgs) -> Result<()> {
    let format = output_format(args.format, &args.output)?;
    // Every part is read and checked, and the format checked against them, before the output
    // is opened: a refusal leaves no file.
    let set = ShardSet::open(&args.parts)?;
    set.check(format)?;
    let to_stdout = args.output == Path::new("-");
    let mut output = Output::open(&args.output)?;
    let summary = set.write(format, output.writer())?;
    output.commit()?;
    if !args.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "merged {} shards: {}x{} max-iter {}, {} iterations ({} computed by the shards), \
             in {:.3} s -> {}",
            summary.parts,
            summary.width,
            summary.rows,
            set.job().max_iter,
            group_thousands(summary.iterations),
            group_thousands(summary.computed),
            summary.elapsed.as_secs_f64(),
            if to_stdout {
                "stdout".into()
            } else {
                args.output.display().to_string()
            },
        );
    }
    Ok(())
}

//! Interleaved timing: every contender runs once per round, in an order that rotates from round
//! to round, so that a change of machine load falls on all of them alike. Reports medians and
//! the median of the per-round ratios against the first contender (the baseline).

use std::hint::black_box;
use std::time::Instant;

/// One thing timed: a name and a closure doing one batch of `ops` operations.
pub struct Contender<'a> {
    /// Printed name.
    pub name: &'static str,
    /// Operations per call of `batch` (the time is reported per operation).
    pub ops: usize,
    /// One batch; returns something the optimiser cannot drop.
    pub batch: Box<dyn FnMut() -> usize + 'a>,
}

/// Per contender, the time of one operation in each round, in nanoseconds.
pub struct Timings {
    /// Contender names, in the order given.
    pub names: Vec<&'static str>,
    /// `per_round[c][r]`: contender `c`'s ns per operation in round `r`.
    pub per_round: Vec<Vec<f64>>,
}

/// Runs `rounds` rounds of `reps` batches per contender (after one warm-up batch each).
pub fn interleave(contenders: &mut [Contender<'_>], rounds: usize, reps: usize) -> Timings {
    let n = contenders.len();
    for c in contenders.iter_mut() {
        black_box((c.batch)());
    }
    let mut per_round = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let (Some(c), Some(slot)) = (contenders.get_mut(i), per_round.get_mut(i)) else {
                continue;
            };
            let start = Instant::now();
            for _ in 0..reps {
                black_box((c.batch)());
            }
            let ns = start.elapsed().as_secs_f64() * 1e9 / (reps * c.ops.max(1)) as f64;
            slot.push(ns);
        }
    }
    Timings {
        names: contenders.iter().map(|c| c.name).collect(),
        per_round,
    }
}

/// What a run does with its contenders.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Interleaved timing over this many rounds.
    Time(usize),
    /// No timing: the contender whose name starts with `name` runs `batches` batches and
    /// nothing else does (for instruction counts under `valgrind --tool=callgrind`: the count
    /// of `batches = k` minus that of `batches = 0`, over `k × ops`, is one operation's).
    Count {
        /// A prefix of the contender's name.
        name: String,
        /// Batches to run.
        batches: usize,
    },
}

/// Runs the contenders as `mode` says: the timings, or `None` after counting (when no
/// contender of this group has the name, nothing runs).
pub fn run(contenders: &mut [Contender<'_>], mode: &Mode, reps: usize) -> Option<Timings> {
    match mode {
        Mode::Time(rounds) => Some(interleave(contenders, *rounds, reps)),
        Mode::Count { name, batches } => {
            if let Some(c) = contenders
                .iter_mut()
                .find(|c| c.name.starts_with(name.as_str()))
            {
                println!("counting: {} x {batches} batches of {} ops", c.name, c.ops);
                for _ in 0..*batches {
                    black_box((c.batch)());
                }
            }
            None
        }
    }
}

/// The median of `xs` (NaN for none).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v.get(n / 2).copied().unwrap_or(f64::NAN),
        n => {
            (v.get(n / 2 - 1).copied().unwrap_or(f64::NAN)
                + v.get(n / 2).copied().unwrap_or(f64::NAN))
                / 2.0
        }
    }
}

impl Timings {
    /// Contender `c`'s time over the baseline's (contender 0), round by round.
    pub fn ratios(&self, c: usize) -> Vec<f64> {
        match (self.per_round.first(), self.per_round.get(c)) {
            (Some(base), Some(other)) => other.iter().zip(base).map(|(o, b)| o / b).collect(),
            _ => Vec::new(),
        }
    }

    /// A table: per contender the median ns per operation, and the median, lowest and highest
    /// per-round ratio to the baseline.
    pub fn report(&self, title: &str) -> String {
        let rounds = self.per_round.first().map_or(0, Vec::len);
        let base = self.names.first().copied().unwrap_or("");
        let mut out = format!(
            "{title} ({rounds} interleaved rounds; ratio = contender / {base}, per round)\n\
             | contender | median per op | median ratio | lowest | highest |\n\
             | --- | --- | --- | --- | --- |\n"
        );
        for (c, name) in self.names.iter().enumerate() {
            let times = self.per_round.get(c).map_or(&[][..], Vec::as_slice);
            let ratios = self.ratios(c);
            let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            out.push_str(&format!(
                "| {name} | {} | {:.2}x | {lo:.2}x | {hi:.2}x |\n",
                human(median(times)),
                median(&ratios)
            ));
        }
        out
    }
}

/// Nanoseconds as ns or µs.
fn human(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{:.2} µs", ns / 1_000.0)
    }
}

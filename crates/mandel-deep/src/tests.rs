//! Perturbation against direct iteration, at depths from 1e15 to 1e1000.

use super::*;

/// `(re, im)` of Kalles Fraktaler 2's benchmark location "1e1086" to 240 digits: a point near
/// a deep minibrot, with boundary at every scale around it.
const DEEP_RE: &str = "-1.76861049301467707450317565327022652023967790758866549483767725757530464097880847527463570736246404425301437028994";
const DEEP_IM: &str = "0.001266613503868717702066411192242601576193940560471409817185010171762524792588903616691501346028502452530417599269";

/// How perturbation compares with direct iteration on a view.
#[derive(Debug)]
struct Agreement {
    /// Pixels compared: those whose direct count is the same at P and P + 64 bits.
    stable: usize,
    /// Of those, pixels whose perturbed count equals the direct one.
    equal: usize,
    /// Pixels left out: their direct counts differ between the two precisions.
    unstable: usize,
    /// The largest count difference on a stable pixel.
    worst: u32,
    /// Pixels taken to be in the set (max-iter), by perturbation.
    inside: usize,
    /// Whether the reference orbit escaped before max-iter.
    reference_escaped: bool,
}

impl Agreement {
    fn fraction(&self) -> f64 {
        self.equal as f64 / self.stable.max(1) as f64
    }
}

/// Perturbation on every `step`-th pixel of a `width` × `height` view `3.5 / zoom` wide,
/// against direct iteration at the view's precision and 64 bits more.
fn agreement(re: &str, im: &str, zoom: &str, size: (u32, u32), max_iter: u32, step: usize) -> Agreement {
    let zoom = Real::parse(zoom, 128).unwrap();
    let width = Real::from_f64(3.5, 128).div(&zoom, 128).to_floatexp();
    let view = DeepView::new(re, im, width, size.0, size.1).unwrap();
    let finer = view.with_bits(view.bits() + 64, re, im).unwrap();
    let orbit = view.reference(max_iter, COUNT_BAILOUT, Stop::never()).unwrap();
    let mut a = Agreement {
        stable: 0,
        equal: 0,
        unstable: 0,
        worst: 0,
        inside: 0,
        reference_escaped: orbit.escaped(),
    };
    for index in (0..view.lattice().pixels()).step_by(step) {
        let mut perturbed = [0];
        view.perturbed_span(&orbit, index, Stop::never(), &mut perturbed).unwrap();
        let (mut direct, mut check) = ([0], [0]);
        view.direct_span(max_iter, index, Stop::never(), &mut direct).unwrap();
        finer.direct_span(max_iter, index, Stop::never(), &mut check).unwrap();
        a.inside += usize::from(perturbed[0] == max_iter);
        if direct != check {
            a.unstable += 1;
            continue;
        }
        a.stable += 1;
        if perturbed == direct {
            a.equal += 1;
        } else {
            a.worst = a.worst.max(perturbed[0].abs_diff(direct[0]));
        }
    }
    a
}

#[test]
fn explore() {
    for zoom in ["1e15", "1e30", "1e100", "1e300", "1e320", "1e1000"] {
        for (re, im) in [("0.0000000000000000000000000000001", "1"), ("-1.99999999999999999999999999999999999999", "0.000000000000000000000000000000000000000001")] {
        let t = std::time::Instant::now();
        let a = agreement(re, im, zoom, (32, 24), 20000, 5);
        println!("{zoom} {re}: {a:?} {:.4} in {:?}", a.fraction(), t.elapsed());
        }
    }
}

//! Reference orbits and their BLA maps kept from one deep render to the next
//! ([`OrbitCache`]): the tiles of a map share a reference point, and so one orbit and, where
//! their pixels lie as far from it, one table.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mandel_deep::{BlaTable, DeepView, ReferenceOrbit};
use mandel_kernel::{Stop, Stopped};

/// A bounded store of reference orbits and linear-map tables, shared by every render given
/// it ([`crate::Job::orbits`]) and by clones of it: the least recently used go first past its
/// size. An orbit is keyed by its point's texts, its precision, max-iter and bailout; a table
/// by its orbit and the largest pixel offset it serves. Two renders that need the same entry
/// at once compute it once: the second waits for the first.
#[derive(Clone)]
pub struct OrbitCache {
    inner: Arc<Mutex<Entries>>,
}

/// What identifies an orbit: the reference point's texts, bits, max-iter, bailout's bits.
type OrbitKey = (String, String, usize, u32, u64);
/// What identifies a table: its orbit's key and the largest offset's mantissa bits and
/// exponent.
type TableKey = (OrbitKey, u64, i32);

#[derive(Hash, PartialEq, Eq, Clone)]
enum Key {
    Orbit(OrbitKey),
    Table(TableKey),
}

#[derive(Clone)]
enum Value {
    Orbit(Arc<ReferenceOrbit>),
    Table(Arc<BlaTable>),
}

/// One entry's value, filled by the first render that needs it; its lock is held while
/// that render computes it.
type Slot = Arc<Mutex<Option<Value>>>;

struct Entries {
    slots: HashMap<Key, Entry>,
    /// Rises by one at every use: the order in which entries were last used.
    clock: u64,
    bytes: usize,
    limit: usize,
}

struct Entry {
    slot: Slot,
    used: u64,
    bytes: usize,
}

impl OrbitCache {
    /// An empty cache holding at most `limit` bytes (an entry larger than that is computed
    /// and used, but not kept).
    pub fn new(limit: usize) -> OrbitCache {
        OrbitCache {
            inner: Arc::new(Mutex::new(Entries {
                slots: HashMap::new(),
                clock: 0,
                bytes: 0,
                limit,
            })),
        }
    }

    /// Entries held and their bytes.
    pub fn size(&self) -> (usize, usize) {
        let entries = self.entries();
        let filled = entries.slots.values().filter(|e| e.bytes > 0).count();
        (filled, entries.bytes)
    }

    /// `view`'s reference orbit to `max_iter` and `bailout`, computed unless held.
    pub(crate) fn orbit(
        &self,
        view: &DeepView,
        max_iter: u32,
        bailout: f64,
        stop: Stop,
    ) -> Result<Arc<ReferenceOrbit>, Stopped> {
        let key = Key::Orbit(orbit_key(view, max_iter, bailout));
        let value = self.get_or_compute(key, || {
            let orbit = view.reference(max_iter, bailout, stop)?;
            Ok((orbit.bytes(), Value::Orbit(Arc::new(orbit))))
        })?;
        match value {
            Value::Orbit(orbit) => Ok(orbit),
            Value::Table(_) => unreachable!("an orbit's key holds an orbit"),
        }
    }

    /// The BLA maps along `orbit` (`view`'s, to `max_iter` and `bailout`) for `view`'s
    /// pixels, computed unless held.
    pub(crate) fn table(
        &self,
        view: &DeepView,
        orbit: &ReferenceOrbit,
        max_iter: u32,
        bailout: f64,
    ) -> Arc<BlaTable> {
        let reach = view.lattice().max_offset();
        let key = Key::Table((
            orbit_key(view, max_iter, bailout),
            reach.mantissa().to_bits(),
            reach.exponent(),
        ));
        let value = self.get_or_compute(key, || {
            let table = view.bla(orbit);
            Ok::<_, Stopped>((table.bytes(), Value::Table(Arc::new(table))))
        });
        match value {
            Ok(Value::Table(table)) => table,
            _ => unreachable!("a table's key holds a table, and its making cannot stop"),
        }
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        // Every change to the entries is whole before the lock is let go.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_or_compute(
        &self,
        key: Key,
        compute: impl FnOnce() -> Result<(usize, Value), Stopped>,
    ) -> Result<Value, Stopped> {
        let slot = {
            let mut entries = self.entries();
            entries.clock += 1;
            let used = entries.clock;
            let entry = entries.slots.entry(key.clone()).or_insert_with(|| Entry {
                slot: Slot::default(),
                used,
                bytes: 0,
            });
            entry.used = used;
            entry.slot.clone()
        };
        // Held while computing: a second render of the same key waits here for the value.
        let mut value = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = &*value {
            return Ok(v.clone());
        }
        match compute() {
            Ok((bytes, v)) => {
                *value = Some(v.clone());
                drop(value);
                self.entries().settle(&key, &slot, bytes);
                Ok(v)
            }
            Err(Stopped) => {
                drop(value);
                // Left for the next render to compute, unless another is already at it.
                let mut entries = self.entries();
                if entries.slots.get(&key).is_some_and(|e| {
                    Arc::ptr_eq(&e.slot, &slot) && slot.try_lock().is_ok_and(|v| v.is_none())
                }) {
                    entries.slots.remove(&key);
                }
                Err(Stopped)
            }
        }
    }
}

impl Entries {
    /// Counts the `bytes` of the value just put in `key`'s `slot`, then evicts the least
    /// recently used entries past the limit.
    fn settle(&mut self, key: &Key, slot: &Slot, bytes: usize) {
        if let Some(entry) = self.slots.get_mut(key)
            && Arc::ptr_eq(&entry.slot, slot)
        {
            entry.bytes = bytes;
            self.bytes += bytes;
        }
        while self.bytes > self.limit {
            let oldest = self
                .slots
                .iter()
                .filter(|(_, e)| e.bytes > 0)
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { break };
            let entry = self.slots.remove(&oldest).expect("just found");
            self.bytes -= entry.bytes;
        }
    }
}

fn orbit_key(view: &DeepView, max_iter: u32, bailout: f64) -> OrbitKey {
    let (re, im) = view.reference_point();
    (
        re.to_string(),
        im.to_string(),
        view.bits(),
        max_iter,
        bailout.to_bits(),
    )
}

/// Two handles are equal when they share one store.
impl PartialEq for OrbitCache {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for OrbitCache {}

impl fmt::Debug for OrbitCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (entries, bytes) = self.size();
        let limit = self.entries().limit;
        write!(f, "OrbitCache({entries} entries, {bytes} of {limit} bytes)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, Job};
    use mandel_deep::COUNT_BAILOUT;
    use std::sync::atomic::AtomicBool;

    fn view(reference: Option<&str>) -> DeepView {
        let mut view = crate::View::default();
        view.set(crate::Field::Center, "0,1").unwrap();
        view.set(crate::Field::Zoom, "1e40").unwrap();
        if let Some(point) = reference {
            view.set(crate::Field::Reference, point).unwrap();
        }
        view.deep(16, 12).unwrap()
    }

    #[test]
    fn an_orbit_and_its_table_are_computed_once_per_key() {
        let cache = OrbitCache::new(usize::MAX);
        let v = view(None);
        let a = cache.orbit(&v, 500, COUNT_BAILOUT, Stop::never()).unwrap();
        let b = cache.orbit(&v, 500, COUNT_BAILOUT, Stop::never()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(cache.size(), (1, a.bytes()));
        // Another limit, bailout or point is another orbit.
        let c = cache.orbit(&v, 501, COUNT_BAILOUT, Stop::never()).unwrap();
        let d = cache.orbit(&v, 500, 16.0, Stop::never()).unwrap();
        let moved = view(Some("0.000000000000000000000000000000000000000001,1"));
        let e = cache
            .orbit(&moved, 500, COUNT_BAILOUT, Stop::never())
            .unwrap();
        for other in [&c, &d, &e] {
            assert!(!Arc::ptr_eq(&a, other));
        }
        assert_eq!(cache.size().0, 4);
        // A table is kept by its orbit and its pixels' reach from the point.
        let t = cache.table(&v, &a, 500, COUNT_BAILOUT);
        assert!(Arc::ptr_eq(&t, &cache.table(&v, &a, 500, COUNT_BAILOUT)));
        assert!(!Arc::ptr_eq(
            &t,
            &cache.table(&moved, &e, 500, COUNT_BAILOUT)
        ));
        assert_eq!(cache.size().0, 6);
    }

    #[test]
    fn the_least_recently_used_go_past_the_limit_and_a_stopped_one_is_not_kept() {
        let v = view(None);
        let one = v
            .reference(400, COUNT_BAILOUT, Stop::never())
            .unwrap()
            .bytes();
        // Room for two orbits of 400 steps.
        let cache = OrbitCache::new(2 * one + one / 2);
        let orbit = |n| cache.orbit(&v, n, COUNT_BAILOUT, Stop::never()).unwrap();
        let first = orbit(400);
        orbit(399);
        assert!(Arc::ptr_eq(&first, &orbit(400)));
        orbit(398);
        // 399 was used least recently: it went, 400 stayed.
        assert_eq!(cache.size().0, 2);
        assert!(Arc::ptr_eq(&first, &orbit(400)));
        let raised = AtomicBool::new(true);
        let stopped = cache.orbit(&v, 5000, COUNT_BAILOUT, Stop::new(&raised, None));
        assert!(stopped.is_err());
        assert_eq!(cache.entries().slots.len(), 2);
    }

    #[test]
    fn a_render_with_a_cache_gives_the_same_bytes_and_leaves_its_orbit_there() {
        let cache = OrbitCache::new(usize::MAX);
        let mut job = Job {
            width: 24,
            height: 16,
            max_iter: 3000,
            format: Format::Npy,
            ..Job::default()
        };
        job.set("center", "0,1").unwrap();
        job.set("zoom", "1e40").unwrap();
        job.set("reference", "0.00000000000000000000000000000000000000001,1")
            .unwrap();
        let alone = job.run_to_vec();
        let shared = Job {
            orbits: Some(cache.clone()),
            ..job.clone()
        };
        assert_eq!(shared.run_to_vec(), alone);
        // The orbit and its table.
        let held = cache.size();
        assert_eq!(held.0, 2);
        assert_eq!(shared.run_to_vec(), alone);
        assert_eq!(cache.size(), held);
    }

    impl Job {
        fn run_to_vec(&self) -> Vec<u8> {
            let mut out = Vec::new();
            self.run(&mut out).unwrap();
            out
        }
    }
}

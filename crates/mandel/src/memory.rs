//! Checks that a buffer fits in memory before allocating it, so that an oversized request is
//! a clear error rather than an abort or the OOM killer.

use crate::error::{Error, Result};

/// Physical memory of this machine in bytes, where the platform tells.
pub fn physical_bytes() -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions; it returns -1 for unknown names.
        let (pages, page) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && page > 0 {
            return Some(pages as u64 * page as u64);
        }
    }
    None
}

/// `items` elements of `item_size` bytes as a length, or [`Error::TooLarge`] if the buffer
/// would overflow the address space or exceed physical memory.
pub fn checked_len(what: &str, items: u64, item_size: usize) -> Result<usize> {
    let limit = physical_bytes().unwrap_or(u64::MAX);
    let too_large = |bytes| Error::TooLarge {
        what: what.to_owned(),
        bytes,
        limit,
    };
    let bytes = items
        .checked_mul(item_size as u64)
        .ok_or_else(|| too_large(u64::MAX))?;
    if bytes > limit || bytes > isize::MAX as u64 {
        return Err(too_large(bytes));
    }
    usize::try_from(items).map_err(|_| too_large(bytes))
}

/// An empty vector with room for `items` elements, refused with [`Error::TooLarge`] before
/// allocating when it cannot fit.
pub fn try_vec<T>(what: &str, items: u64) -> Result<Vec<T>> {
    let len = checked_len(what, items, size_of::<T>())?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::TooLarge {
        what: what.to_owned(),
        bytes: items.saturating_mul(size_of::<T>() as u64),
        limit: physical_bytes().unwrap_or(0),
    })?;
    Ok(v)
}

/// `items` zeroed `u32`s, refused with [`Error::TooLarge`] before allocating when they cannot
/// fit. The memory comes zeroed from the allocator (fresh pages from the OS for large sizes),
/// so no single thread has to touch every page before the work starts.
pub fn try_zeroed_u32(what: &str, items: u64) -> Result<Vec<u32>> {
    let len = checked_len(what, items, size_of::<u32>())?;
    if len == 0 {
        return Ok(Vec::new());
    }
    let too_large = || Error::TooLarge {
        what: what.to_owned(),
        bytes: items.saturating_mul(4),
        limit: physical_bytes().unwrap_or(0),
    };
    let layout = std::alloc::Layout::array::<u32>(len).map_err(|_| too_large())?;
    // SAFETY: the layout has a non-zero size; a null result is handled.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<u32>();
    if ptr.is_null() {
        return Err(too_large());
    }
    // SAFETY: allocated by the global allocator with this exact layout (len u32s), all of them
    // initialised (zero is a valid u32).
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_vectors_are_zero() {
        let v = try_zeroed_u32("x", 100_000).unwrap();
        assert_eq!(v.len(), 100_000);
        assert!(v.iter().all(|&x| x == 0));
        assert!(try_zeroed_u32("x", 0).unwrap().is_empty());
        assert!(try_zeroed_u32("a grid", u64::MAX / 8).is_err());
    }

    #[test]
    fn refuses_more_than_the_machine_has() {
        assert!(checked_len("x", 1000, 4).is_ok());
        let err = checked_len("a grid", u64::MAX / 2, 4).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }));
        assert!(err.to_string().starts_with("a grid needs"));
        if let Some(phys) = physical_bytes() {
            assert!(checked_len("x", phys, 2).is_err());
        }
    }
}

//! Per-thread memos of values that are costly to make and keep repeating:
//! ingest's parsed resource ids and object URIs, analyze's Cedar extension
//! values. Each thread keeps its own map (no lock on a hot path); a map
//! starts over when full, which bounds its memory.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::hash::Hash;
use std::thread::LocalKey;

use polars::prelude::PlHashMap;

/// The map a `thread_local!` memo holds.
pub type Memo<K, V> = RefCell<PlHashMap<K, V>>;

/// Entries a memo holds before it starts over.
const CAPACITY: usize = 4096;

/// The value remembered for `key`, made by `make` the first time.
pub fn remembered<Q, V>(
    memo: &'static LocalKey<Memo<Q::Owned, V>>,
    key: &Q,
    make: impl FnOnce(&Q) -> V,
) -> V
where
    Q: ?Sized + ToOwned + Hash + Eq,
    Q::Owned: Hash + Eq + Borrow<Q>,
    V: Clone,
{
    memo.with_borrow_mut(|map| {
        if let Some(value) = map.get(key) {
            return value.clone();
        }
        if map.len() >= CAPACITY {
            map.clear();
        }
        let value = make(key);
        map.insert(key.to_owned(), value.clone());
        value
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        static LENGTHS: Memo<String, usize> = RefCell::default();
    }

    #[test]
    fn a_value_is_made_once_per_key_until_the_memo_is_full() {
        let made = Cell::new(0);
        let length = |text: &str| {
            remembered(&LENGTHS, text, |t| {
                made.set(made.get() + 1);
                t.len()
            })
        };
        assert_eq!(length("vault"), 5);
        assert_eq!(length("vault"), 5);
        assert_eq!(made.get(), 1);
        for i in 0..CAPACITY {
            length(&i.to_string());
        }
        assert!(LENGTHS.with_borrow(|map| map.len()) <= CAPACITY);
        assert_eq!(length("vault"), 5);
        assert_eq!(made.get(), CAPACITY + 2);
    }
}

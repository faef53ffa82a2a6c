//! `normalisePath` / `normalizePath` and `normalisePathWin` / `normalizePathWin`.
//!
//! Port of ModSecurity v3's `NormalisePath::normalize_path_inplace`: collapses repeated
//! slashes, removes `.` segments and resolves `..` against the previous segment without
//! going above the root (a relative path keeps leading `..` it cannot resolve); a trailing
//! slash is kept only if the input had one. The Windows variant first turns `\` into `/`.
//! Not a filesystem call: no symlinks, drive letters or UNC names.
//! Where v3 moves its output pointer before the start of the buffer (`/.` followed by
//! `..` on an absolute path), we clamp at the start, which is where v3 ends up too.

use super::changed;

/// `t:normalisePath`.
pub(super) fn normalise_path(input: &[u8], out: &mut Vec<u8>) -> bool {
    normalize(input, false, out)
}

/// `t:normalisePathWin`.
pub(super) fn normalise_path_win(input: &[u8], out: &mut Vec<u8>) -> bool {
    normalize(input, true, out)
}

fn normalize(input: &[u8], win: bool, out: &mut Vec<u8>) -> bool {
    // Without a separator the only segment is the whole value, and only a final `.` or
    // `..` can change it (a dot elsewhere, as in a sentence, is kept): skip the copy for
    // most argument values (checked against the full algorithm in the tests).
    let sep = if win {
        memchr::memchr2(b'/', b'\\', input)
    } else {
        memchr::memchr(b'/', input)
    };
    if sep.is_none() && input.last() != Some(&b'.') {
        return false;
    }
    normalize_full(input, win, true, out)
}

/// libmodsecurity 3's `normalize_path_inplace`, step by step; with `bulk`, a run of bytes
/// that are not separators and not followed by one (which the steps copy one at a time,
/// unchanged) is moved in one go: a 20 KB JSON body with a few URLs in it took ~45
/// instructions per byte before. The tests check both ways give the same result.
fn normalize_full(input: &[u8], win: bool, bulk: bool, out: &mut Vec<u8>) -> bool {
    if input.is_empty() {
        return false;
    }
    let is_sep = |c: u8| c == b'/' || (win && c == b'\\');
    let end = input.len() - 1;
    let relative = !is_sep(input[0]);
    let trailing = is_sep(input[end]);
    out.extend_from_slice(input);
    let buf = out;
    let mut src: usize = 0;
    // `dst` may go below zero transiently in v3 (pointer arithmetic); keep it signed.
    let mut dst: isize = 0;
    let mut hitroot = false;
    let mut done = false;

    // `dst` never exceeds `src`, so `buf[dst]` is always in bounds while `src` is.
    while !done && src <= end && dst <= end as isize {
        if bulk && src < end {
            let rest = buf.get(src..).unwrap_or_default();
            let sep = if win {
                memchr::memchr2(b'/', b'\\', rest)
            } else {
                memchr::memchr(b'/', rest)
            };
            // Positions src..run end are plain: not a separator, not followed by one, not
            // the last byte.
            let run_end = sep.map_or(end, |i| (src + i).saturating_sub(1)).min(end);
            if run_end > src {
                buf.copy_within(src..run_end, dst as usize);
                dst += (run_end - src) as isize;
                src = run_end;
            }
        }
        if win {
            if buf[src] == b'\\' {
                buf[src] = b'/';
            }
            if src < end && buf[src + 1] == b'\\' {
                buf[src + 1] = b'/';
            }
        }

        let mut normalise = true;
        if src == end {
            done = true;
        } else if buf[src + 1] != b'/' {
            normalise = false;
        }

        let mut skip_copy = false;
        if normalise {
            let d = dst as usize; // dst >= 0 here: it is only negative inside the backref
            if src != end && buf[src] == b'/' {
                // Empty segment: the copy below collapses the slashes.
            } else if buf[src] == b'.' {
                if d > 0 && buf[d - 1] == b'.' {
                    // Back-reference.
                    if relative && (hitroot || dst - 2 <= 0) {
                        hitroot = true;
                    } else {
                        dst -= 3;
                        while dst > 0 && buf[dst as usize] != b'/' {
                            dst -= 1;
                        }
                        if dst <= 0 {
                            hitroot = true;
                            dst = 0;
                            if !relative && src == end {
                                dst += 1;
                            }
                        }
                        if done {
                            skip_copy = true;
                        } else {
                            src += 1;
                        }
                    }
                } else if d == 0 {
                    // Relative self-reference.
                    if done {
                        skip_copy = true;
                    } else {
                        src += 1;
                    }
                } else if buf[d - 1] == b'/' {
                    // Self-reference.
                    if done {
                        skip_copy = true;
                    } else {
                        dst -= 1;
                        src += 1;
                    }
                }
            } else if d > 0 {
                hitroot = false;
            }
        }

        if skip_copy {
            continue;
        }
        // Copy, skipping to the last slash of a run.
        if buf[src] == b'/' {
            while src < end && is_sep(buf[src + 1]) {
                src += 1;
            }
            if relative && dst == 0 {
                src += 1;
                continue;
            }
        }
        let (s, d) = (src, dst as usize);
        if let Some(&c) = buf.get(s) {
            if let Some(slot) = buf.get_mut(d) {
                *slot = c;
            }
        }
        dst += 1;
        src += 1;
    }

    let mut d = dst.max(0) as usize;
    if !trailing && d > 0 && buf.get(d - 1) == Some(&b'/') {
        d -= 1;
    }
    buf.truncate(d);
    changed(input, buf)
}

#[cfg(test)]
mod tests {

    // The functions under test, with their result as an `Option`.
    fn normalize(input: &[u8], win: bool) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        super::normalize(input, win, &mut out).then_some(out)
    }
    fn normalize_full(input: &[u8], win: bool, bulk: bool) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        super::normalize_full(input, win, bulk, &mut out).then_some(out)
    }
    fn normalise_path(input: &[u8]) -> Option<Vec<u8>> {
        crate::transformations::owned(super::normalise_path, input)
    }
    fn normalise_path_win(input: &[u8]) -> Option<Vec<u8>> {
        crate::transformations::owned(super::normalise_path_win, input)
    }

    /// All strings of up to `n` bytes over `alphabet`.
    fn strings(alphabet: &[u8], n: usize) -> Vec<Vec<u8>> {
        let mut all = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..n {
            let next: Vec<Vec<u8>> = last
                .iter()
                .flat_map(|s| {
                    alphabet.iter().map(move |&c| {
                        let mut t = s.clone();
                        t.push(c);
                        t
                    })
                })
                .collect();
            all.extend(next.iter().cloned());
            last = next;
        }
        all
    }

    #[test]
    fn quick_check_agrees_with_the_full_algorithm() {
        // Without a separator or a dot the full algorithm changes nothing...
        for s in strings(b"a: \0\xff~", 5) {
            assert_eq!(normalize_full(&s, false, false), None, "{s:?}");
        }
        for s in strings(b"a: \0\xff~", 5) {
            assert_eq!(normalize_full(&s, true, false), None, "{s:?}");
        }
        // ...nor without a separator unless the value ends with a dot...
        for s in strings(b"a.b", 7) {
            if s.last() != Some(&b'.') {
                assert_eq!(normalize_full(&s, false, false), None, "{s:?}");
                assert_eq!(normalize_full(&s, true, false), None, "{s:?}");
            }
        }
        // ...and otherwise the quick check defers to it.
        for s in strings(b"a/.\\", 5) {
            assert_eq!(
                normalize(&s, false),
                normalize_full(&s, false, false),
                "{s:?}"
            );
            assert_eq!(
                normalize(&s, true),
                normalize_full(&s, true, false),
                "{s:?}"
            );
        }
    }

    #[test]
    fn bulk_copy_agrees_with_the_steps() {
        for s in strings(b"ab/.\\", 7) {
            for win in [false, true] {
                assert_eq!(
                    normalize_full(&s, win, true),
                    normalize_full(&s, win, false),
                    "{s:?} win {win}"
                );
            }
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(normalise_path(b"/"), None);
        assert_eq!(normalise_path(b"//").unwrap(), b"/");
        // v3 drops the root slash too when the path ends on a back-reference to it.
        assert_eq!(normalise_path(b"/..").unwrap(), b"");
        assert_eq!(normalise_path(b"/../").unwrap(), b"/");
        assert_eq!(normalise_path(b"/./../x").unwrap(), b"/x");
        assert_eq!(normalise_path(b"/a/b/../../../c").unwrap(), b"/c");
        assert_eq!(normalise_path_win(b"c:\\a\\..\\b").unwrap(), b"c:/b");
    }

    #[test]
    fn never_panics_on_dot_soup() {
        let alphabet = [b'.', b'/', b'\\', b'a'];
        // Every string of length <= 7 over the alphabet.
        for len in 0..=7u32 {
            for n in 0..4usize.pow(len) {
                let mut s = Vec::new();
                let mut k = n;
                for _ in 0..len {
                    s.push(alphabet[k % 4]);
                    k /= 4;
                }
                let _ = normalise_path(&s);
                let _ = normalise_path_win(&s);
            }
        }
    }
}

//! `phpArgsNames`: rewrites an argument name the way PHP registers it.
//!
//! Port of ModSecurity v3's `PhpArgsNames` (which follows PHP's
//! `php_register_variable_ex`): a name starting with `[` or `=` becomes empty; leading
//! spaces are dropped; before the first `[` that has a matching `]`, spaces and dots
//! become `_`; an unmatched `[` becomes `_` and the rest is kept as is; after the first
//! matched `[`, only the bracket groups (`[...]`, with `[ ]` → `[]`) are kept and anything
//! after the last group is dropped. Like the C code (`strchr`), the search for `]` stops
//! at a NUL byte.

use super::changed;

/// Position of the first `]` at or after `from`, not crossing a NUL.
fn find_close(v: &[u8], from: usize) -> Option<usize> {
    v.get(from..)?
        .iter()
        .take_while(|&&c| c != 0)
        .position(|&c| c == b']')
        .map(|p| p + from)
}

/// `t:phpArgsNames`.
pub(super) fn php_args_names(input: &[u8], out: &mut Vec<u8>) -> bool {
    let first = input.first().copied();
    if first == Some(b'[') || first == Some(b'=') {
        // The result is empty (the input is not).
        return true;
    }
    let len = input.len();
    out.reserve(len);
    let mut i = input.iter().position(|&c| c != b' ').unwrap_or(len);
    let mut is_array = false;
    let mut open = false;
    while i < len {
        let c = input[i];
        if c == b'[' && !open {
            if find_close(input, i).is_some() {
                is_array = true;
                break;
            }
            out.push(b'_');
            open = true;
        } else if !open && (c == b' ' || c == b'.') {
            out.push(b'_');
        } else {
            out.push(c);
        }
        i += 1;
    }
    if is_array {
        // Here input[i] == '[' with a matching ']'.
        while let Some(close) = find_close(input, i) {
            let group_end = close + 1;
            if group_end - i == 3 && input.get(i + 1) == Some(&b' ') {
                out.push(b'[');
                i += 2;
            }
            if i < group_end {
                out.extend_from_slice(&input[i..group_end]);
                i = group_end;
            }
            if i >= len || input[i] != b'[' {
                break;
            }
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(php_args_names);

    #[test]
    fn names() {
        assert_eq!(php_args_names(b"a b.c"), Some(b"a_b_c".to_vec()));
        assert_eq!(php_args_names(b"a[b][c]d"), Some(b"a[b][c]".to_vec()));
        assert_eq!(php_args_names(b"a[b"), Some(b"a_b".to_vec()));
        assert_eq!(php_args_names(b"=x"), Some(Vec::new()));
        assert_eq!(php_args_names(b"   "), Some(Vec::new()));
        assert_eq!(php_args_names(b""), None);
        assert_eq!(php_args_names(b"a[\0]"), Some(b"a_\0]".to_vec()));
    }
}

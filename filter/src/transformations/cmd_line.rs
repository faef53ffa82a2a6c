//! `cmdLine`: normalises a command line the way ModSecurity v3's `CmdLine` does.
//!
//! Deletes `"`, `'`, `\` and `^`; turns runs of space, `,`, `;`, tab, CR and LF into one
//! space; drops a space before `/` or `(`; lowercases ASCII letters. Not a shell parser.

use super::changed;

/// `t:cmdLine`.
pub(super) fn cmd_line(input: &[u8], out: &mut Vec<u8>) -> bool {
    // Nothing to delete, squeeze or lowercase (most argument values): skip the copy.
    // Checked against the full algorithm in the tests.
    let acts = |c: u8| {
        matches!(
            c,
            b'"' | b'\'' | b'\\' | b'^' | b' ' | b',' | b';' | b'\t' | b'\r' | b'\n'
        ) || c.is_ascii_uppercase()
    };
    if !input.iter().any(|&c| acts(c)) {
        return false;
    }
    cmd_line_full(input, out)
}

fn cmd_line_full(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.reserve(input.len());
    let mut space = false;
    for &c in input {
        match c {
            b'"' | b'\'' | b'\\' | b'^' => {}
            b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' => {
                if !space {
                    out.push(b' ');
                    space = true;
                }
            }
            b'/' | b'(' => {
                if space {
                    out.pop();
                }
                space = false;
                out.push(c);
            }
            _ => {
                out.push(c.to_ascii_lowercase());
                space = false;
            }
        }
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(cmd_line, cmd_line_full);

    #[test]
    fn quick_check_agrees_with_the_full_algorithm() {
        let alphabet = b"az0/(-\x80";
        let mut last = vec![Vec::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for s in &last {
                for &c in alphabet {
                    let mut t: Vec<u8> = s.clone();
                    t.push(c);
                    assert_eq!(cmd_line_full(&t), None, "{t:?}");
                    next.push(t);
                }
            }
            last = next;
        }
        for s in [&b"A"[..], b"a b", b"a  b", b"a /b", b"'x'", b"x\n"] {
            assert_eq!(cmd_line(s), cmd_line_full(s), "{s:?}");
        }
    }

    #[test]
    fn examples() {
        assert_eq!(cmd_line(b"C^MD  ,; /C \"DIR\"").unwrap(), b"cmd/c dir");
        assert_eq!(cmd_line(b"x (y)").unwrap(), b"x(y)");
        assert_eq!(cmd_line(b"plain"), None);
    }
}

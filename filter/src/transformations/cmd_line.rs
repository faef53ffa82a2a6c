//! `cmdLine`: normalises a command line the way ModSecurity v3's `CmdLine` does.
//!
//! Deletes `"`, `'`, `\` and `^`; turns runs of space, `,`, `;`, tab, CR and LF into one
//! space; drops a space before `/` or `(`; lowercases ASCII letters. Not a shell parser.

use super::if_changed;

/// `t:cmdLine`.
pub(super) fn cmd_line(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
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
    if_changed(input, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert_eq!(cmd_line(b"C^MD  ,; /C \"DIR\"").unwrap(), b"cmd/c dir");
        assert_eq!(cmd_line(b"x (y)").unwrap(), b"x(y)");
        assert_eq!(cmd_line(b"plain"), None);
    }
}

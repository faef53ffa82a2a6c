//! `removeComments`, `removeCommentsChar` and `replaceComments`.
//!
//! Ports of ModSecurity v3's `RemoveComments`, `RemoveCommentsChar` and
//! `ReplaceComments`. Not a SQL, HTML or C parser: comment markers are recognised anywhere.
//! Quirks kept because the SecRules test set pins them: in `removeComments`, the byte
//! right after a closing `*/` or `-->` is copied unconditionally (so a comment that
//! closes at the very end yields a NUL, the C string terminator), and `--` or `#` outside
//! a comment ends the output there.

use super::changed;

/// `t:removeComments`.
pub(super) fn remove_comments(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input
        .iter()
        .any(|&c| matches!(c, b'/' | b'<' | b'-' | b'#'))
    {
        return false;
    }
    let len = input.len();
    let at = |k: usize| input.get(k).copied().unwrap_or(0);
    out.reserve(len);
    let mut incomment = false;
    let mut i = 0;
    while i < len {
        if !incomment {
            if input[i] == b'/' && at(i + 1) == b'*' && i + 1 < len {
                incomment = true;
                i += 2;
            } else if input[i] == b'<' && i + 3 < len && &input[i + 1..i + 4] == b"!--" {
                incomment = true;
                i += 4;
            } else if (input[i] == b'-' && i + 1 < len && input[i + 1] == b'-') || input[i] == b'#'
            {
                break;
            } else {
                out.push(input[i]);
                i += 1;
            }
        } else if input[i] == b'*' && i + 1 < len && input[i + 1] == b'/' {
            incomment = false;
            i += 2;
            // v3 copies input[i] even when i == len (the NUL terminator).
            out.push(at(i));
            i += 1;
        } else if input[i] == b'-' && i + 2 < len && &input[i + 1..i + 3] == b"->" {
            incomment = false;
            i += 3;
            out.push(at(i));
            i += 1;
        } else {
            i += 1;
        }
    }
    if incomment {
        out.push(b' ');
    }
    changed(input, out)
}

/// `t:removeCommentsChar`: deletes the markers `/*`, `*/`, `<!--`, `-->`, `--` and `#`.
pub(super) fn remove_comments_char(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input
        .iter()
        .any(|&c| matches!(c, b'/' | b'*' | b'<' | b'-' | b'#'))
    {
        return false;
    }
    let len = input.len();
    out.reserve(len);
    let mut i = 0;
    while i < len {
        let rest = &input[i..];
        if rest.starts_with(b"/*") || rest.starts_with(b"*/") {
            i += 2;
        } else if rest.starts_with(b"<!--") {
            i += 4;
        } else if rest.starts_with(b"-->") {
            i += 3;
        } else if rest.starts_with(b"--") {
            i += 2;
        } else if rest[0] == b'#' {
            i += 1;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    changed(input, out)
}

/// `t:replaceComments`: each `/* … */` (or unterminated `/* …`) becomes one space.
pub(super) fn replace_comments(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.windows(2).any(|w| w == b"/*") {
        return false;
    }
    let len = input.len();
    out.reserve(len);
    let mut incomment = false;
    let mut i = 0;
    while i < len {
        if !incomment {
            if input[i] == b'/' && i + 1 < len && input[i + 1] == b'*' {
                incomment = true;
                i += 2;
            } else {
                out.push(input[i]);
                i += 1;
            }
        } else if input[i] == b'*' && i + 1 < len && input[i + 1] == b'/' {
            incomment = false;
            i += 2;
            out.push(b' ');
        } else {
            i += 1;
        }
    }
    if incomment {
        out.push(b' ');
    }
    changed(input, out)
}

#[cfg(test)]
mod tests {

    crate::transformations::under_test!(remove_comments, remove_comments_char, replace_comments);

    #[test]
    fn remove_comments_truncates_at_line_comment() {
        assert_eq!(remove_comments(b"a--b").unwrap(), b"a");
        assert_eq!(remove_comments(b"a#b").unwrap(), b"a");
        assert_eq!(remove_comments(b"a<!--x-->b").unwrap(), b"ab");
        assert_eq!(remove_comments(b"a<!--x-->").unwrap(), b"a\0");
        assert_eq!(remove_comments(b"/*"), Some(b" ".to_vec()));
        assert_eq!(remove_comments(b"-"), None);
    }

    #[test]
    fn remove_comments_char_markers() {
        assert_eq!(remove_comments_char(b"<!--a-->b--c#").unwrap(), b"abc");
        assert_eq!(remove_comments_char(b"a-b*c/d"), None);
    }

    #[test]
    fn replace_comments_unterminated() {
        assert_eq!(replace_comments(b"a/*b").unwrap(), b"a ");
        assert_eq!(replace_comments(b"a*/b"), None);
    }
}

//! Evaluation of RouterOS `print` queries against one row.
//!
//! Each plain query word pushes one boolean; `?#` words operate on the stack: `!` negates the
//! top, `&` and `|` replace the two top values with their AND / OR, a digit `n` pushes a copy of
//! the value `n` places below the top (0 = top), and `.` is accepted as a no-op terminator (the
//! manual describes it that way; mikrotik-rs calls it "end"). At the end every value left on the
//! stack is ANDed; no query at all matches every row.

use crate::codec::QueryWord;
use crate::state::Row;

/// Why a query could not be evaluated; RouterOS answers such queries with a trap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("invalid query: stack underflow at {0:?}")]
    Underflow(String),
    #[error("invalid query: unknown operation {0:?}")]
    UnknownOperation(char),
}

/// Compares like RouterOS does for the values we store: numbers numerically, everything else
/// as text (MACs case-insensitively, since clients may send lower case).
fn compare(key: &str, have: &str, want: &str) -> std::cmp::Ordering {
    if let (Ok(a), Ok(b)) = (have.parse::<i128>(), want.parse::<i128>()) {
        return a.cmp(&b);
    }
    if key.ends_with("mac-address") {
        return have.to_ascii_uppercase().cmp(&want.to_ascii_uppercase());
    }
    have.cmp(want)
}

pub fn matches(row: &Row, queries: &[QueryWord]) -> Result<bool, QueryError> {
    let mut stack: Vec<bool> = Vec::with_capacity(queries.len());
    for query in queries {
        match query {
            QueryWord::Equal(k, v) => stack.push(
                row.get(k).is_some_and(|have| compare(k, have, v).is_eq())
                    || (v.is_empty() && row.get(k).is_none()),
            ),
            QueryWord::Greater(k, v) => {
                stack.push(row.get(k).is_some_and(|have| compare(k, have, v).is_gt()));
            }
            QueryWord::Less(k, v) => {
                stack.push(row.get(k).is_some_and(|have| compare(k, have, v).is_lt()));
            }
            QueryWord::Present(k) => stack.push(row.get(k).is_some()),
            QueryWord::Absent(k) => stack.push(row.get(k).is_none()),
            QueryWord::Operations(ops) => {
                for op in ops.chars() {
                    let underflow = || QueryError::Underflow(ops.clone());
                    match op {
                        '!' => {
                            let top = stack.last_mut().ok_or_else(underflow)?;
                            *top = !*top;
                        }
                        '&' | '|' => {
                            let b = stack.pop().ok_or_else(underflow)?;
                            let a = stack.pop().ok_or_else(underflow)?;
                            stack.push(if op == '&' { a && b } else { a || b });
                        }
                        '.' => {}
                        d if d.is_ascii_digit() => {
                            let depth = d as usize - '0' as usize;
                            let index = stack.len().checked_sub(depth + 1).ok_or_else(underflow)?;
                            stack.push(stack[index]);
                        }
                        other => return Err(QueryError::UnknownOperation(other)),
                    }
                }
            }
        }
    }
    Ok(stack.iter().all(|&b| b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let mut r = Row::default();
        r.set("type", "ether");
        r.set("mac-address", "AA:BB:CC:DD:EE:FF");
        r.set("bytes-in", "100");
        r
    }

    fn eq(k: &str, v: &str) -> QueryWord {
        QueryWord::Equal(k.into(), v.into())
    }

    #[test]
    fn plain_queries_are_anded() {
        assert!(matches(&row(), &[]).unwrap());
        assert!(
            matches(
                &row(),
                &[eq("type", "ether"), eq("mac-address", "aa:bb:cc:dd:ee:ff")]
            )
            .unwrap()
        );
        assert!(!matches(&row(), &[eq("type", "ether"), eq("type", "vlan")]).unwrap());
        assert!(
            matches(
                &row(),
                &[QueryWord::Greater("bytes-in".into(), "99".into())]
            )
            .unwrap()
        );
        assert!(!matches(&row(), &[QueryWord::Less("bytes-in".into(), "99".into())]).unwrap());
        assert!(
            matches(
                &row(),
                &[
                    QueryWord::Present("type".into()),
                    QueryWord::Absent("comment".into())
                ]
            )
            .unwrap()
        );
    }

    #[test]
    fn stack_operations() {
        let or = QueryWord::Operations("|".into());
        assert!(
            matches(
                &row(),
                &[eq("type", "vlan"), eq("type", "ether"), or.clone()]
            )
            .unwrap()
        );
        assert!(!matches(&row(), &[eq("type", "vlan"), eq("type", "bridge"), or]).unwrap());
        assert!(
            matches(
                &row(),
                &[eq("type", "vlan"), QueryWord::Operations("!".into())]
            )
            .unwrap()
        );
        // copy of the value one below the top, then AND of the two copies of `false`…
        let copy = [
            eq("type", "vlan"),
            eq("type", "ether"),
            QueryWord::Operations("1&".into()),
        ];
        assert!(!matches(&row(), &copy).unwrap());
        assert_eq!(
            matches(&row(), &[QueryWord::Operations("&".into())]),
            Err(QueryError::Underflow("&".into()))
        );
        assert_eq!(
            matches(
                &row(),
                &[eq("type", "x"), QueryWord::Operations("x".into())]
            ),
            Err(QueryError::UnknownOperation('x'))
        );
    }
}

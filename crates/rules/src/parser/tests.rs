use super::sexpr;

#[test]
fn precedence_and_forms() {
    let cases = [
        ("a or b and not c", "(or a (and b (not c)))"),
        ("1 + 2 * 3 >= 7", "(>= (+ 1 (* 2 3)) 7)"),
        ("x between 1 and 2 and y", "(and (between x 1 2) y)"),
        ("x not in [1, 2]", "(not in x [1 2])"),
        (
            "count(page where path = \"/p\", last 7d)",
            "(count (where page (= path \"/p\")) (last 1w))",
        ),
        (
            "count(\"A\", between 60d and 30d ago)",
            "(count \"A\" (ago 60d 30d))",
        ),
        (
            "exists(x, within 48h of first(\"S\"))",
            "(exists x (within 2d (first \"S\")))",
        ),
        (
            "sequence(\"A\" then \"B\" within 1d)",
            "(sequence (then \"A\" \"B\" (within 1d)))",
        ),
        (
            "each(last 3 \"S\" followed_by \"O\" on id)",
            "(each (each-last 3 \"S\" \"O\" (on id)))",
        ),
        ("first(\"S\").time", "(. (first \"S\") time)"),
        ("-x - -1", "(- (- x) (- 1))"),
        ("1 < 2 < 3", "error 6..7: comparisons cannot be chained"),
        (
            "count(",
            "error 6..6: expected a value, found end of expression",
        ),
        (
            "a where b",
            "error 2..7: expected an operator or the end of the expression, found `where`",
        ),
        ("and", "error 0..3: expected a value, found `and`"),
        ("last(7d)", "(last 1w)"),
        (
            "count(page, last 7)",
            "error 17..18: a window needs a duration",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(sexpr(src), want, "{src}");
    }
}

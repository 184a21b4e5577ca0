"""prom_check.py FILE: a check of the Prometheus text exposition format
(what node_exporter's textfile collector reads), for when promtool is not
installed: every sample parses, its metric family has HELP and TYPE lines
before it (TYPE gauge), label values are properly escaped, no series is
repeated, the file ends with a newline.  Exit 0 or 1 with the reason."""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(%s)(\{(?:%s)(?:,%s)*\})? (-?[0-9]+(?:\.[0-9]+)?'
                    r'(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)$' % (NAME, LABEL, LABEL))


def fail(n, why):
    print("line %d: %s" % (n, why))
    sys.exit(1)


def main():
    text = open(sys.argv[1]).read()
    if not text.endswith("\n"):
        fail(0, "no newline at the end")
    helps, types, seen = set(), {}, set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            m = re.match(r'^# HELP (%s) \S' % NAME, line)
            if not m or m.group(1) in helps:
                fail(n, "bad or repeated HELP")
            helps.add(m.group(1))
        elif line.startswith("# TYPE "):
            m = re.match(r'^# TYPE (%s) (gauge|counter)$' % NAME, line)
            if not m or m.group(1) in types:
                fail(n, "bad or repeated TYPE")
            types[m.group(1)] = m.group(2)
        elif line.startswith("#") or line == "":
            fail(n, "unexpected line")
        else:
            m = SAMPLE.match(line)
            if not m:
                fail(n, "not a sample: %r" % line)
            if m.group(1) not in helps or m.group(1) not in types:
                fail(n, "%s has no HELP or TYPE before it" % m.group(1))
            series = (m.group(1), m.group(2))
            if series in seen:
                fail(n, "repeated series")
            seen.add(series)
    if not seen:
        fail(0, "no sample")


main()

"""Compare two demo folders file by file: reports/** (CSV, Markdown) and data/** (Parquet, npz, CSV)."""
import filecmp, os, sys
a, b = sys.argv[1], sys.argv[2]
exts = {"reports": (".csv", ".md"), "data": (".parquet", ".npz", ".csv")}
same, diff, missing = [], [], []
seen = set()
for top, ok in exts.items():
    for root, _, files in os.walk(os.path.join(a, top)):
        for f in files:
            if not f.endswith(ok):
                continue
            pa = os.path.join(root, f); rel = os.path.relpath(pa, a); pb = os.path.join(b, rel)
            if rel in seen:
                continue
            seen.add(rel)
            if not os.path.exists(pb):
                missing.append(rel)
            elif filecmp.cmp(pa, pb, shallow=False):
                same.append(rel)
            else:
                diff.append(rel)
extra = []
for top, ok in exts.items():
    for root, _, files in os.walk(os.path.join(b, top)):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), b)
            if f.endswith(ok) and not os.path.exists(os.path.join(a, rel)):
                extra.append(rel)
print(f"identical: {len(same)}  differ: {len(diff)}  only in {a}: {len(missing)}  only in {b}: {len(extra)}")
for r in diff: print("DIFF", r)
for r in missing: print("ONLY-A", r)
for r in extra: print("ONLY-B", r)
with open(sys.argv[3] if len(sys.argv) > 3 else "/dev/null", "w") as fh:
    fh.write("\n".join(sorted(same)) + "\n")

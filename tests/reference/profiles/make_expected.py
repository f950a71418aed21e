"""scikit-learn reference partitions for tests/classify/test_kmeans.py.

Run in a throwaway venv with scikit-learn (not a dependency of engagestats):
    python -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn pandas
    /tmp/skl/bin/python tests/reference/profiles/make_expected.py
Each case: KMeans(n_clusters=k, init="k-means++", n_init=500, random_state=0,
algorithm="lloyd", tol=1e-10, max_iter=1000).fit(X) -> labels, cluster_centers_, inertia_.
"""

import json
from pathlib import Path

import pandas as pd
import sklearn
from sklearn.cluster import KMeans

HERE = Path(__file__).parent
CASES = [
    ("urica_sample_z.csv", 2),
    ("urica_sample_z.csv", 3),
    ("urica_sample_z.csv", 4),
    ("blobs.csv", 3),
]

out = {"sklearn_version": sklearn.__version__, "cases": []}
for file, k in CASES:
    data = pd.read_csv(HERE / file)
    x = data.drop(columns=[c for c in ["client_id"] if c in data.columns]).to_numpy(float)
    km = KMeans(
        n_clusters=k,
        init="k-means++",
        n_init=500,
        random_state=0,
        algorithm="lloyd",
        tol=1e-10,
        max_iter=1000,
    ).fit(x)
    out["cases"].append(
        {
            "file": file,
            "k": k,
            "call": f"KMeans(n_clusters={k}, n_init=500, random_state=0, algorithm='lloyd', "
            "tol=1e-10, max_iter=1000)",
            "labels": km.labels_.tolist(),
            "centers": km.cluster_centers_.tolist(),
            "inertia": float(km.inertia_),
        }
    )
(HERE / "sklearn_kmeans.json").write_text(json.dumps(out, indent=1) + "\n")

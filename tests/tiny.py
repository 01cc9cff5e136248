"""The tiny study shared by the report and deck tests: 48 px, 3 steps, random weights, both engines."""

TINY = {
    "title": "Tiny <script>alert('x')</script> study",
    "weights": "random:0", "engines": ["torch", "tf"], "seeds": [0, 1], "size": 48, "steps": 3,
    "measure_memory": False,  # a fresh process per engine: tested on its own in test_outputs.py
    "style": {"image": "sample:coffee"},
    "content": [{"image": "sample:astronaut", "box": [20, 10, 450, 500], "region": "background"}],
    "kmeans": {"k": 3},
    "audit": {"size": 48, "methods": ["saliency", "gradcam"], "sanity_steps": 1, "curve_steps": 3,
              "shortcut": True},
}

#: A study file for the command-line tests (one engine, no audit, no memory measurement): format it with the seeds
#: (a TOML list) and the steps.
STUDY_FILE = """\
weights = "random:0"
engines = ["torch"]
seeds = {seeds}
size = 32
steps = {steps}
measure_memory = false
audit = false
[style]
image = "sample:coffee"
[[content]]
image = "sample:astronaut"
box = [20, 10, 450, 500]
"""

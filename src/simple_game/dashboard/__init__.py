"""``simple-game dashboard``: a local, read-only web app over run directories and datasets.

The pages' logic lives in plain modules that know nothing of Streamlit, so each is tested
without a browser: :mod:`.files` (reading files that may still be being written),
:mod:`.runlist` (finding runs, their warnings), :mod:`.curves` (metrics, smoothing),
:mod:`.timeline` (checkpoints, videos and evaluations of a run), :mod:`.comparison` (seeds as
median and IQR, final scores), :mod:`.configdiff`, :mod:`.gameplay` (datasets and their frames)
and :mod:`.studies` (ablation series and sweeps). The Streamlit layer is thin: :mod:`.app` (the
script ``streamlit run`` starts), :mod:`.cache` (reads cached by path and modification time)
and one module per page in :mod:`.views`.

Nothing here writes into ``runs/`` or ``data/``: every file is opened for reading only.
"""

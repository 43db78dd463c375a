"""rget: download one file over many HTTP Range connections, resumable and verified.

>>> from rget.download import Options, download  # doctest: +SKIP
>>> download("https://example.com/tool.tar.gz", Path("tool.tar.gz"), Options(connections=8))  # doctest: +SKIP
"""

__version__ = "0.1.0"

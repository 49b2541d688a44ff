"""Build ingest's VCF fast path (services/ingest/adapters/vcf/_fastpath.pyx) against the htslib inside pysam.

pysam's libchtslib has no SONAME: the extension names it by file name, and finds it at run time because
pysam (which loads it) is imported first. Everything else about the package is in pyproject.toml.
"""

import os

import pysam
from Cython.Build import cythonize
from setuptools import Extension, setup

_HTSLIB = pysam.libchtslib.__file__

setup(
    ext_modules=cythonize(
        [
            Extension(
                "services.ingest.adapters.vcf._fastpath",
                ["services/ingest/adapters/vcf/_fastpath.pyx"],
                include_dirs=pysam.get_include(),
                define_macros=pysam.get_defines(),
                library_dirs=[os.path.dirname(_HTSLIB)],
                libraries=[":" + os.path.basename(_HTSLIB)],
            )
        ],
        compiler_directives={"language_level": 3},
    )
)

"""The build step pyproject.toml cannot declare: the course the grader ships with.

A wheel of micrograde grades anywhere, so it carries what the checkout keeps beside the package: the
reference solution (`reference/micrograd/`) and the shipped assignments (`assignments/<id>/`: their TOML,
instructions and notebook, never a secret). Both are copied into `grader/data/` of the build, where
`grader.paths` finds them when no checkout is around. An editable install reads the checkout itself.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# What a course folder holds that the grader reads, by its path in the checkout: nothing else is shipped.
COURSE_FILES = ("reference/micrograd/*.py", "assignments/*/assignment.toml", "assignments/*/README.md",
                "assignments/*/*.ipynb")


class BuildPyWithCourse(build_py):
    """build_py, then the course files into `grader/data/` of the build."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        data = Path(self.build_lib) / "grader" / "data"
        for pattern in COURSE_FILES:
            for source in sorted(ROOT.glob(pattern)):
                target = data / source.relative_to(ROOT)
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target), preserve_mode=False)


setup(cmdclass={"build_py": BuildPyWithCourse})

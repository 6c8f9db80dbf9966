#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image; the zip is in /autograder/source.
set -euo pipefail

SOURCE=/autograder/source
VENV=/opt/micrograde

export DEBIAN_FRONTEND=noninteractive
apt-get update
# bubblewrap confines every job to its staged copy and the Python runtime (see docs/threat-model.md).
apt-get install -y --no-install-recommends python3 python3-pip python3-venv bubblewrap

# The grader needs Python 3.11 or newer; older images (Ubuntu 22.04) get it as python3.11.
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
# Editable, so that the grader finds assignments/ and the reference's answers (grader/data/) in $SOURCE;
# with the instructor's extra, for engines that use numpy.
"$VENV/bin/pip" install -e "$SOURCE[instructor]"
# The answers to the secret plans are the grader's alone: no job, whatever user it runs as, may read them.
chmod 700 "$SOURCE"
chmod 600 "$SOURCE/grader/data/reference_results.json"
ln -sf "$VENV/bin/micrograde" /usr/local/bin/micrograde
micrograde --version

"""Authoring: the instructor writes the solution once in reference/, with markers; everything a student
receives (student_template/, each assignment's README and notebook) is generated from it.

markers.py reads the solution regions, tasks.py joins them with the assignment's parts, template.py
builds the student repository, assignment_docs.py the instructions and the notebook, and tree.py
compares or writes what they generate.
"""

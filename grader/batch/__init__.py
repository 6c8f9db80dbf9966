"""Grade a whole class: find the submissions in a folder, zip or LMS export, grade them in parallel,
and write one report per student plus a gradebook and a class summary.

    find submissions (discover) → skip unchanged ones (state) → probe and judge in worker processes
    (runner) → write each student's files atomically (store) → rebuild gradebook and summary (summary)
"""

"""Grade a whole class: find the submissions in a folder, zip or LMS export, grade them in parallel,
and write one report per student plus a gradebook and a class summary.

    find submissions (submissions) → skip unchanged ones (store's state) → probe and judge in worker
    processes (runner) → write each student's files atomically (store) → rebuild the gradebook, the summary
    and the dashboard from the reports (rebuild, over summary and dashboard)
"""

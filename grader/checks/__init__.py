"""The checks: pytest tests over collected results. Each test grades one aspect of one part; its failure
message is the feedback a student reads. To add a check, write one more test here taking `evidence`
(and `part`, if it is parametrized over parts); `grader.judge.session` collects and scores it."""

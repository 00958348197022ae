"""`sslctl report`: plots of one or several runs (plots.py) and the page that shows them
(page.py); jobs/report.py gathers what they draw."""

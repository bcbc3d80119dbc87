"""Read models of the web UI's pages: each module serves one page's queries."""

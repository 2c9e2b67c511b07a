"""HTML to clean markdown: main content, blocks, titles, and the text a reader does not see.

Modules: blocks, css, extract, hidden, invisible, link_teasers, main_column, page_title.
"""

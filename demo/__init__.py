"""`missing-bot demo`: the whole bot against the local fake Slack, driven from a terminal.

`console.run_demo` is the entry point; the other modules are its parts: `runtime` starts and
stops the stack, `seed` writes synthetic episodes, `render` turns Block Kit into text, `feed`
decides what to print, `modal_prompts` fills a modal one prompt per field, `terminal` does I/O.
"""

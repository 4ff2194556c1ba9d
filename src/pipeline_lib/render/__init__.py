"""Presentation: display names, Markdown / CSV tables, plot plumbing.  Layer rule: imports nothing of the
package (it formats what the studies computed)."""

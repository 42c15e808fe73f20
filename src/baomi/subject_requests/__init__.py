"""Data-subject requests (issue 12 item 4; PIPL art. 44-47, GB/T 35273 §8.7): a customer asks
for a copy, a correction, a deletion or the withdrawal of a consent, and the company answers
within a due time, every step on record."""

"""Private ledgers (C4.1.3): find the files on a disk or share that hold customer data."""

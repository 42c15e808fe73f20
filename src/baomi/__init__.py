"""baomi — 保密: a customer-data vault that makes the confidentiality policy real."""

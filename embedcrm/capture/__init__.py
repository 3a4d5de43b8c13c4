"""Lead capture: public form submissions become contacts and leads."""

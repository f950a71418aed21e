# Reference values for engagestats.effect_sizes (tests/analyses/test_effect_sizes.py).
# Run from the repository root:  Rscript tests/reference/therapist_effects/effect_sizes.R
# Input: effect_sizes_fixture.csv (see make_fixtures.py). Output: effect_sizes.csv (R 4.2, lme4).
suppressPackageStartupMessages(library(lme4))
dir <- "tests/reference/therapist_effects"
d <- read.csv(file.path(dir, "effect_sizes_fixture.csv"))
d$group <- d$treatment - mean(tapply(d$treatment, d$client_id, mean))  # centred, as growth_model
fit <- lmer(phq9_total ~ time + group + time:group + (1 + time | therapist_id) +
              (1 + time | client_id), data = d, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa"))
b <- unname(fixef(fit)["time:group"]); b_se <- sqrt(vcov(fit)["time:group", "time:group"])
base <- d[d$time == 0, ]
pooled_sd <- function(y, g) sqrt(sum(tapply(y, g, function(v) sum((v - mean(v))^2))) /
                                   (length(y) - length(unique(g))))
sd_raw <- pooled_sd(base$phq9_total, base$treatment)
duration <- 10
d_gma <- b * duration / sd_raw                                # Feingold (2009)
set.seed(15)
boot <- bootMer(fit, function(f) {
  y <- getME(f, "y")[d$time == 0]
  unname(fixef(f)["time:group"]) * duration / pooled_sd(y, base$treatment)
}, nsim = 300, type = "parametric", use.u = FALSE)
out <- data.frame(
  quantity = c("b", "b_se", "sd_raw", "d_gma", "boot_low", "boot_high", "boot_sd"),
  value = c(b, b_se, sd_raw, d_gma, quantile(boot$t, c(0.025, 0.975)), sd(boot$t)),
  r_call = c("fixef(fit)['time:group']", "sqrt(vcov(fit)['time:group','time:group'])",
             "pooled within-group SD of phq9_total at time 0",
             "b * 10 / sd_raw", "bootMer(nsim = 300, parametric) 2.5%", "97.5%", "sd(boot$t)")
)
write.csv(out, file.path(dir, "effect_sizes.csv"), row.names = FALSE)
print(out[, 1:2])

"""Chinese of the response-model pages: the fit form, a model's progress and what it says."""

CHINESE = {
    "90% interval": "90% 区间",
    "fitted": "拟合值",
    "actual": "实际值",
    "held out": "留出",
    "weekly {kpi}": "每周{kpi}",
    "median": "中位数",
    "weekly spend": "每周花费",
    "Weekly {kpi}, fitted against actual": "每周{kpi}：拟合值与实际值",
    "Response curves by channel": "各渠道的响应曲线",
    # the fit form
    "Fit a response model": "拟合响应模型",
    "A response model learns from weekly spend and outcomes how each channel's spend turns "
    "into conversions or revenue, with carry-over from week to week and saturation. The fit "
    "runs in the background; its page shows the progress and then what the model says.":
        "响应模型从每周的花费和结果中学习各渠道的花费如何转化为转化或收入，并考虑逐周的延续效应和"
        "饱和。"
        "拟合在后台运行；其页面先显示进度，再显示模型的结论。",
    "A fit needs a spend dataset and an outcomes dataset of this workspace.":
        "拟合需要本工作区的一个花费数据集和一个结果数据集。",
    "Upload them first.": "请先上传。",
    "Ask an owner to upload them.": "请让所有者上传。",
    "Data": "数据",
    "none": "无",
    "Spend (date, channel, spend)": "花费（日期、渠道、花费）",
    "Weekly or daily spend per channel, in the workspace's currency.":
        "各渠道每周或每日的花费，以工作区币种计。",
    "Outcomes (date, conversions, revenue)": "结果（日期、转化、收入）",
    "The KPI over the same dates.": "同一时期的 KPI。",
    "Controls (optional)": "控制变量（可选）",
    "What else moves the KPI week by week: prices, promotions, holidays.":
        "每周影响 KPI 的其他因素：价格、促销、节假日。",
    "Lift tests (optional)": "增量实验（可选）",
    "Experiments that changed a channel's spend on purpose; they pin its curve down.":
        "有意改变某渠道花费的实验；它们能确定该渠道的曲线。",
    "What the model explains": "模型解释什么",
    "KPI": "KPI",
    "Conversions, or revenue if the outcomes have it.": "转化；如果结果数据含收入，也可选收入。",
    "Response curve": "响应曲线",
    "How returns flatten as a channel's weekly spend grows.": "渠道每周花费增加时回报如何趋缓。",
    "Carry-over (weeks)": "延续效应（周）",
    "How many weeks a week's spend keeps working.": "一周的花费能持续起作用多少周。",
    "Seasonality terms": "季节项",
    "Yearly season: 0 for none, more for sharper seasons.":
        "年度季节性：0 表示不考虑，数值越大季节变化越细。",
    "Weeks held out": "留出周数",
    "The last weeks kept out of the fit to test its forecasts; 0 for none.":
        "最后若干周不参与拟合，用于检验预测；0 表示不留出。",
    "Value per conversion (optional)": "每次转化的价值（可选）",
    "Revenue per conversion, in the workspace's currency; without it returns are counted in "
    "conversions.": "每次转化带来的收入，以工作区币种计；不填时回报以转化数计。",
    "Width of the attribution prior": "归因先验的宽度",
    "Used only with an attribution prior; smaller trusts it more.":
        "仅在使用归因先验时有效；越小越信任先验。",
    "Sampling": "抽样",
    "More draws and tuning steps take longer and give steadier estimates.":
        "抽样和调整步数越多，耗时越长，估计越稳定。",
    "Draws per chain": "每条链的抽样数",
    "Posterior draws kept per chain.": "每条链保留的后验抽样数。",
    "Tuning steps per chain": "每条链的调整步数",
    "Steps to adapt the sampler before the draws are kept.": "保留抽样之前用于调整抽样器的步数。",
    "Chains": "链数",
    "Independent chains; they are compared to check the fit.":
        "相互独立的链；通过比较它们来检验拟合。",
    "Seed": "随机种子",
    "The same seed gives the same fit.": "相同的种子得到相同的拟合。",
    "Start the fit": "开始拟合",
    # the model page: progress and failure
    "Response model {id}": "响应模型 {id}",
    "No such response model in this workspace.": "本工作区没有这个响应模型。",
    "created {when}": "创建于 {when}",
    "KPI: {kpi}": "KPI：{kpi}",
    "curve: {curve}": "曲线：{curve}",
    "Fitting": "正在拟合",
    "{done} of {total} draws, about {minutes} min left":
        "已完成 {done} / {total} 次抽样，约剩 {minutes} 分钟",
    "{done} of {total} draws, about {seconds} s left":
        "已完成 {done} / {total} 次抽样，约剩 {seconds} 秒",
    "{done} of {total} draws": "已完成 {done} / {total} 次抽样",
    "Now: {note}": "当前：{note}",
    "compiling the model": "正在编译模型",
    "tuning": "正在调整",
    "sampling": "正在抽样",
    "saving the model": "正在保存模型",
    "The sampler draws from the posterior of the model in chains; the draws include the "
    "tuning steps. This page shows the result when the fit ends.":
        "抽样器按链从模型的后验中抽样；抽样数包括调整步数。拟合结束后本页显示结果。",
    "Waiting for a worker to start the fit.": "正在等待后台进程开始拟合。",
    "The fit failed": "拟合失败",
    "No reason was recorded.": "没有记录原因。",
    "What to do: fix what the message names (the data or a setting), then start a new fit. If "
    "the message is about the computer (memory, time), try fewer draws or chains.":
        "怎么办：修正消息中指出的问题（数据或某项设置），然后重新拟合。如果消息与计算机有关（内存"
        "、时间），"
        "请减少抽样数或链数。",
    "Start a new fit": "重新拟合",
    # the model page: what the model says
    "The next {step} a week returns most in {channel}: about {value} more revenue a week "
    "({low} to {high}).":
        "每周多花 {step}，在 {channel} 上回报最高：每周约多 {value} 收入（{low} 至 {high}）。",
    "The next {step} a week returns most in {channel}: about {value} more {kpi} a week "
    "({low} to {high}).":
        "每周多花 {step}，在 {channel} 上回报最高：每周约多 {value} 的{kpi}（{low} 至 {high}）。",
    "{count} of the model's checks failed; read them before you plan with it.":
        "模型有 {count} 项检查未通过；用它做方案之前请先阅读。",
    "Every check of the fit passed.": "拟合的各项检查均已通过。",
    "Build a plan": "制定预算方案",
    "Make a forecast of its newest plan": "为其最新方案做预测",
    "See the budget frontier": "查看预算前沿",
    "Can you trust it?": "模型可信吗？",
    "Each check of the fit, in words. A failed check names what to change before the model is "
    "used for plans.": "用文字说明拟合的每项检查。未通过的检查会指出在用模型做方案之前需要改什么。",
    "Notes on the data": "数据说明",
    "Chains agree (R-hat)": "各链一致（R-hat）",
    "Enough independent draws (effective sample size)": "独立抽样足够（有效样本量）",
    "No divergent draws": "没有发散的抽样",
    "Fit to the weekly data (R²)": "对每周数据的拟合（R²）",
    "Held-out weeks": "留出周",
    "Forecast error on the held-out weeks": "留出周的预测误差",
    "Forecast intervals on the held-out weeks": "留出周的预测区间",
    "The chains disagree (largest R-hat {value}, above {limit}): the estimates are not "
    "reliable yet.": "各链不一致（最大 R-hat 为 {value}，高于 {limit}）：估计尚不可靠。",
    "The chains agree (largest R-hat {value}; at most {limit} is needed).":
        "各链一致（最大 R-hat 为 {value}；要求不超过 {limit}）。",
    "Too few independent draws (smallest effective sample size {value}, below {limit}): the "
    "intervals are too rough to trust.":
        "独立抽样太少（最小有效样本量为 {value}，低于 {limit}）：区间过于粗糙，不可信。",
    "Enough independent draws (smallest effective sample size {value}; at least {limit} is "
    "needed).": "独立抽样足够（最小有效样本量为 {value}；要求至少 {limit}）。",
    "{value} draws diverged: the sampler missed part of the posterior, so the estimates may be "
    "biased.": "有 {value} 次抽样发散：抽样器漏掉了部分后验，估计可能有偏。",
    "No draw diverged: the sampler explored the whole posterior.":
        "没有抽样发散：抽样器探索了整个后验。",
    "The model follows the weekly KPI worse than a flat line at its average would (R² "
    "{value}): something else drives it.":
        "模型对每周 KPI 的拟合还不如一条位于平均值的水平线（R² 为 {value}）：KPI 另有驱动因素。",
    "The model explains only {value} of the week-to-week movement of the KPI (below "
    "{limit}): something else drives it.":
        "模型只解释了 KPI 逐周变化的 {value}（低于 {limit}）：KPI 另有驱动因素。",
    "The model explains {value} of the week-to-week movement of the KPI.":
        "模型解释了 KPI 逐周变化的 {value}。",
    "No weeks were held out, so how well the model forecasts is untested.":
        "没有留出任何周，因此模型的预测能力未经检验。",
    "The last {value} weeks were kept out of the fit to test its forecasts.":
        "最后 {value} 周未参与拟合，用于检验预测。",
    "On the held-out weeks the forecast was off by {value} on average, more than {limit}.":
        "在留出周上，预测平均偏差 {value}，超过 {limit}。",
    "On the held-out weeks the forecast was off by {value} on average (at most {limit} is "
    "expected).": "在留出周上，预测平均偏差 {value}（应不超过 {limit}）。",
    "Only {value} of the held-out weeks fell inside the 90% interval (at least {limit} is "
    "expected): the model is overconfident.":
        "只有 {value} 的留出周落在 90% 区间内（应至少 {limit}）：模型过于自信。",
    "{value} of the held-out weeks fell inside the 90% interval (at least {limit} is "
    "expected).": "{value} 的留出周落在 90% 区间内（应至少 {limit}）。",
    "What to do:": "怎么办：",
    "Refit with more tuning steps (tune {value}).": "用更多调整步数重新拟合（调整步数 {value}）。",
    "Refit with more draws per chain (draws {value}).": "用更多抽样重新拟合（每条链 {value} 次）。",
    "Add a lift test for {channels}.": "为 {channels} 增加增量实验。",
    "Refit holding out the last {value} weeks to test its forecasts.":
        "重新拟合时留出最后 {value} 周，以检验预测。",
    "Add a controls dataset with what else moves the KPI (prices, promotions, holidays), or "
    "more weeks of data.":
        "增加一个控制变量数据集，写明其他影响 KPI 的因素（价格、促销、节假日），或提供更多周的数"
        "据。",
    "Fitted against actual": "拟合值与实际值",
    "Weekly {kpi}: the actual weeks as points, the model's fitted mean as a line in its 90% "
    "interval.": "每周{kpi}：点为实际值，线为模型拟合的均值及其 90% 区间。",
    "The shaded last {weeks} weeks were held out of the fit: there the line is a forecast.":
        "阴影部分的最后 {weeks} 周未参与拟合：那里的线是预测。",
    "What drove the {kpi}": "{kpi}从何而来",
    "The {kpi} of the {weeks} fit weeks, split into the baseline (what there would have been "
    "without media: level, trend, season and controls) and what each channel added. Below "
    "each number, the range that holds 90% of the posterior.":
        "拟合期 {weeks} 周的{kpi}，分为基线（没有媒体投放时本应有的部分：水平、趋势、季节和"
        "控制变量）和各渠道带来的部分。每个数字下方是包含 90% 后验的范围。",
    "Contribution over the fit weeks": "拟合期内的贡献",
    "Part": "部分",
    "{low} to {high}": "{low} 至 {high}",
    "Share of the fitted total": "占拟合总量的比例",
    "Baseline": "基线",
    "Fitted total": "拟合总量",
    "Actual total": "实际总量",
    "Response curves": "响应曲线",
    "Weekly {kpi} of each channel at a steady weekly spend: the median and its 90% interval; "
    "the dashed line is the current spend (the mean of the last weeks).":
        "各渠道在稳定每周花费下的每周{kpi}：中位数及其 90% 区间；虚线为当前花费（最近几周的均值）"
        "。",
    "The return of the next unit of money": "下一笔钱的回报",
    "At today's weekly spend, what more spend on each channel would bring. Where the next "
    "{one} brings back less than {one} in revenue, the channel is past its profitable spend.":
        "按当前的每周花费，在各渠道多花钱能带来什么。如果多花 {one} 带回的收入不足 {one}，该渠道"
        "已超过盈利的花费水平。",
    "Return of more spend at the current weekly spend": "在当前每周花费上追加花费的回报",
    "Weekly spend now": "当前每周花费",
    "Weekly {kpi} now": "当前每周{kpi}",
    "More weekly {kpi} from {step} more a week": "每周多花 {step} 多带来的每周{kpi}",
    "Total {kpi}": "{kpi}总量",
    "Revenue from the next {one} (marginal ROMI)": "多花 {one} 带来的收入（边际 ROMI）",
    "No value per conversion was given, so returns are counted in conversions; fit with a "
    "value per conversion to see them in money.":
        "未提供每次转化的价值，因此回报以转化数计；拟合时填写每次转化的价值即可看到金额。",
    "The lift tests this model was fitted with are no longer in the workspace.":
        "拟合此模型所用的增量实验已不在本工作区中。",
    "No lift test for: {channels}.": "以下渠道没有增量实验：{channels}。",
    "Without a lift test, a channel's curve rests only on how its spend moved against the KPI "
    "over time. Channels whose spend rose and fell together cannot be told apart that way, so "
    "their curves, and any plan built on them, may be far off. A lift test (spend changed on "
    "purpose in one channel, the change in the KPI measured) pins the curve down.":
        "没有增量实验时，渠道的曲线只能依据其花费与 KPI 随时间的变化。花费同涨同跌的渠道无法据此"
        "区分，"
        "因此它们的曲线以及基于这些曲线的方案可能偏差很大。增量实验（有意改变一个渠道的花费并测量"
        " KPI 的变化）"
        "能确定曲线。",
    "Every channel has at least one lift test.": "每个渠道都至少有一次增量实验。",
    "Lift tests per channel": "各渠道的增量实验",
    "Data and settings": "数据与设置",
    "What this model was fitted on": "此模型的拟合依据",
}
